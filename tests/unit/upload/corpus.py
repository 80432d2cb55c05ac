"""Hostile and awkward uploads, generated with Pillow: each case says how it must end.

Shared by the unit tests (in-memory adapters) and the integration tests (real S3 and Redis).
Images are small so the whole corpus runs in a couple of seconds.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageCms

RED = (230, 20, 20)
BLUE = (20, 40, 220)
GREY = (128, 128, 128)


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[], bytes]
    status: str  # "ready" | "failed"
    reason: str = ""  # a substring of the failure reason (or of the ready notes)
    # For ready cases: (derivative size, x fraction, y fraction) -> expected RGB, checked on every format.
    pixels: tuple[tuple[str, float, float, tuple[int, int, int]], ...] = ()
    watermark: str | None = None


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, fmt, **params)
    return buffer.getvalue()


def photo(width: int = 480, height: int = 320) -> Image.Image:
    """A gradient with a red block in the top-left corner and a blue one in the bottom-right."""
    im = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    block_w, block_h = width // 4, height // 4
    im.paste(RED, (0, 0, block_w, block_h))
    im.paste(BLUE, (width - block_w, height - block_h, width, height))
    return im


# What each EXIF orientation means: the stored pixels, transposed this way, give the displayed image.
_DISPLAY = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_INVERSE = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def oriented_jpeg(orientation: int) -> bytes:
    """A JPEG whose *displayed* image is photo(): red top-left, blue bottom-right."""
    displayed = photo()
    undo = _INVERSE.get(orientation, _DISPLAY[orientation])
    stored = displayed.transpose(undo) if undo is not None else displayed
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=92, exif=exif.tobytes())


CORNERS = (
    ("thumb", 0.05, 0.05, RED),
    ("thumb", 0.95, 0.95, BLUE),
    ("web", 0.05, 0.05, RED),
    ("web", 0.95, 0.95, BLUE),
)


def gps_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS R5"
    exif[0x0131] = "Secret Editing Suite"
    exif.get_ifd(0x8769)[0x9003] = "2024:05:17 14:03:59"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (48.0, 51.0, 29.0)
    gps[3] = "E"
    gps[4] = (2.0, 17.0, 40.0)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/>GPSLatitude 48,51N</x:xmpmeta>'
    return encode(photo(), "JPEG", quality=90, exif=exif.tobytes(), xmp=xmp)


def cmyk_jpeg() -> bytes:
    im = Image.new("CMYK", (400, 300), (0, 255, 255, 0))  # no cyan, full magenta and yellow: red
    return encode(im, "JPEG", quality=95)


def grey16_png() -> bytes:
    # 0..65535 left to right: 8-bit output must be a gradient, not clipped to white.
    im = Image.linear_gradient("L").rotate(90, expand=True).resize((512, 64)).convert("I")
    return encode(im.point(lambda v: v * 257).convert("I;16"), "PNG")


def rgb16_png() -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write one, so by hand): mid grey."""
    width, height = 64, 32
    pixel = struct.pack(">HHH", 0x8080, 0x8080, 0x8080)
    raw = b"".join(b"\x00" + pixel * width for _ in range(height))
    return _png(width, height, bit_depth=16, colour_type=2, idat=zlib.compress(raw))


def _png(width: int, height: int, *, bit_depth: int, colour_type: int, idat: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@functools.cache
def png_bomb() -> bytes:
    """9500 x 9500 real greyscale pixels (90 MP, just past Pillow's warning) in about 90 KB."""
    width = height = 9500
    compressor = zlib.compressobj(1)
    rows = b"\x00" * ((width + 1) * 100)
    idat = b"".join(compressor.compress(rows) for _ in range(height // 100)) + compressor.flush()
    return _png(width, height, bit_depth=8, colour_type=0, idat=idat)


def png_header_bomb() -> bytes:
    """100000 x 100000 declared, almost no data: Pillow's hard limit."""
    return _png(100_000, 100_000, bit_depth=8, colour_type=0, idat=zlib.compress(b"\x00" * 1024))


def huge_jpeg_header() -> bytes:
    """A tiny JPEG whose frame header claims 65000 x 65000."""
    return sized_jpeg_header(65000, 65000)


def sized_jpeg_header(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("RGB", (16, 16), GREY), "JPEG"))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def palette_png_transparent() -> bytes:
    im = Image.new("P", (200, 100), 0)
    im.putpalette([255, 255, 255, *RED, *BLUE] + [0] * (256 * 3 - 9))
    im.paste(1, (0, 0, 100, 100))  # left half red
    im.paste(2, (100, 0, 200, 100))  # right half: blue, but fully transparent
    return encode(im, "PNG", transparency=2)


def rgba_png() -> bytes:
    im = Image.new("RGBA", (200, 100), (*BLUE, 0))  # transparent everywhere...
    im.paste((*RED, 255), (0, 0, 100, 100))  # ...but an opaque red left half
    return encode(im, "PNG")


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (120, 80), colour) for colour in (RED, BLUE, GREY)]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def icc_jpeg(profile: bytes) -> bytes:
    return encode(photo(), "JPEG", quality=90, icc_profile=profile)


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def corrupt_icc() -> bytes:
    profile = bytearray(srgb_profile())
    profile[36:40] = b"XXXX"  # the 'acsp' signature every profile must carry
    profile[128:] = b"\xff" * (len(profile) - 128)
    return icc_jpeg(bytes(profile))


def corrupt_jpeg() -> bytes:
    data = bytearray(encode(photo(), "JPEG"))
    huffman = data.find(b"\xff\xc4")
    data[huffman + 4] = 0x7F  # a Huffman table of a class that does not exist
    return bytes(data)


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def webp() -> bytes:
    return encode(photo(), "WEBP", quality=90)


CASES: tuple[Case, ...] = (
    Case("zero bytes", lambda: b"", "failed", "empty"),
    Case("text renamed .jpg", lambda: b"holiday photos, honest\n" * 20, "failed", "not an image"),
    Case("HTML served as image/jpeg", lambda: b"<!DOCTYPE html><html><body><img src=x></body></html>",
         "failed", "HTML"),
    Case("SVG", lambda: b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10"/>',
         "failed", "SVG"),
    Case("random binary", lambda: bytes(range(256)) * 8, "failed", "not a recognised image format"),
    Case("TIFF", lambda: encode(photo(), "TIFF"), "failed", "TIFF files are not supported"),
    Case("HEIC signature", lambda: b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64, "failed", "HEIC"),
    Case("truncated JPEG", lambda: half(encode(photo(), "JPEG")), "failed", "truncated"),
    Case("truncated PNG", lambda: half(encode(photo(), "PNG")), "failed", "truncated"),
    Case("JPEG magic then garbage", lambda: b"\xff\xd8\xff\xe0" + b"\x13" * 500, "failed", "JPEG"),
    Case("corrupt JPEG Huffman table", corrupt_jpeg, "failed", "corrupt"),
    Case("PNG decompression bomb (90 MP)", png_bomb, "failed", "too many pixels"),
    Case("PNG header bomb (10 GP)", png_header_bomb, "failed", "too many pixels"),
    Case("huge-dimension JPEG header", huge_jpeg_header, "failed", "too many pixels"),
    Case("JPEG of 85 MP (over our cap, under Pillow's)", functools.partial(sized_jpeg_header, 11300, 7530),
         "failed", "11300x7530"),
    Case("CMYK JPEG", cmyk_jpeg, "ready", pixels=(("web", 0.5, 0.5, (255, 0, 0)),)),
    Case("16-bit greyscale PNG", grey16_png, "ready",
         pixels=(("web", 0.02, 0.5, (0, 0, 0)), ("web", 0.5, 0.5, (128, 128, 128)))),
    Case("16-bit RGB PNG", rgb16_png, "ready", pixels=(("web", 0.5, 0.5, (128, 128, 128)),)),
    Case("palette PNG with transparency", palette_png_transparent, "ready",
         pixels=(("web", 0.25, 0.5, RED), ("web", 0.75, 0.5, (255, 255, 255)))),
    Case("RGBA PNG", rgba_png, "ready",
         pixels=(("web", 0.25, 0.5, RED), ("web", 0.75, 0.5, (255, 255, 255)))),
    Case("greyscale JPEG", lambda: encode(photo().convert("L"), "JPEG"), "ready"),
    Case("animated GIF: first frame", lambda: animated("GIF"), "ready", "first frame",
         pixels=(("web", 0.5, 0.5, RED),)),
    Case("animated WebP: first frame", lambda: animated("WEBP"), "ready", "first frame",
         pixels=(("web", 0.5, 0.5, RED),)),
    Case("static WebP", webp, "ready", pixels=CORNERS),
    Case("1x1 PNG", lambda: encode(Image.new("RGB", (1, 1), RED), "PNG"), "ready",
         pixels=(("thumb", 0.5, 0.5, RED),)),
    Case("panorama 8000x200", lambda: encode(photo(8000, 200), "JPEG"), "ready"),
    Case("GPS-tagged JPEG with XMP", gps_jpeg, "ready", pixels=CORNERS),
    Case("sRGB ICC profile", lambda: icc_jpeg(srgb_profile()), "ready", pixels=CORNERS),
    Case("corrupt ICC profile", corrupt_icc, "ready", "ICC profile ignored", pixels=CORNERS),
    *(Case(f"EXIF orientation {o}", functools.partial(oriented_jpeg, o), "ready", pixels=CORNERS)
      for o in range(1, 9)),
)
