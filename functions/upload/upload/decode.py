"""Decode an upload once, safely, into an sRGB RGB image just large enough for the biggest derivative.

Safety: the real format is sniffed first and Pillow may only use that one decoder; the
declared dimensions are checked against a pixel cap before any pixel is decoded;
decompression-bomb warnings are errors; truncated files are refused.

Speed and memory: JPEGs are decoded with ``draft`` (libjpeg scales in the DCT domain by
1/2, 1/4 or 1/8), other formats are shrunk with ``Image.reduce`` (an integer box filter)
straight after decoding, and only then are orientation, colour management and mode
conversion applied, so those run on a few megapixels instead of the full frame.
"""

from __future__ import annotations

import functools
import io
import math
import struct
import warnings
import zlib
from dataclasses import dataclass, field

from PIL import Image, ImageCms, UnidentifiedImageError

from upload.errors import ImageRejected
from upload.formats import sniff

# EXIF tags we read (everything else is dropped with the original's metadata).
_ORIENTATION = 0x0112
_MAKE = 0x010F
_MODEL = 0x0110
_DATETIME = 0x0132
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)

_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 4, "PA": 4, "LA": 2, "RGB": 3, "RGBA": 4, "RGBX": 4,
                    "CMYK": 4, "YCbCr": 3, "LAB": 3, "HSV": 3, "I": 4, "F": 4, "I;16": 2}


@dataclass(frozen=True)
class DecodeLimits:
    # Declared pixels; Pillow itself warns at 89.5 MP, which we treat as an error too.
    max_pixels: int = 80_000_000
    # What the decoded (after DCT scaling) frame may occupy; keeps PNGs inside the function's memory.
    max_decoded_bytes: int = 200 * 1024 * 1024


@dataclass(frozen=True)
class SourceInfo:
    format: str
    width: int  # as displayed, after EXIF orientation
    height: int
    orientation: int
    animated: bool
    captured_at: str | None  # EXIF "YYYY:MM:DD HH:MM:SS" rewritten as ISO 8601, no zone
    camera_make: str | None
    camera_model: str | None


@dataclass
class Decoded:
    image: Image.Image  # RGB, sRGB, oriented, no metadata; long edge >= the asked size unless smaller
    source: SourceInfo
    notes: list[str] = field(default_factory=list)


def decode(data: bytes, min_long_edge: int, limits: DecodeLimits = DecodeLimits()) -> Decoded:
    fmt = sniff(data[:1024])
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        im = _open(data, fmt, limits)
        width, height = im.size
        notes: list[str] = []
        orientation, captured_at, make, model = _read_exif(im, notes)
        icc = im.info.get("icc_profile") or None
        animated = bool(getattr(im, "is_animated", False))
        if animated:
            im.seek(0)
            notes.append("animated image: the first frame was used")

        if fmt == "JPEG":
            scale = min_long_edge / max(width, height)
            if scale < 1:
                im.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))
        _check_decoded_size(im, limits)
        try:
            im.load()
        except Image.DecompressionBombWarning as exc:
            raise ImageRejected(f"the {fmt} file is too large to process safely ({exc})") from exc
        except _DECODE_ERRORS as exc:
            raise ImageRejected(_decode_failure(fmt, exc)) from exc

    im = _to_reducible_mode(im)
    factor = max(im.size) // min_long_edge
    if factor >= 2:
        im = im.reduce(factor)
    if orientation in _TRANSPOSE:
        im = im.transpose(_TRANSPOSE[orientation])
    im = _to_srgb(im, icc, notes)
    im = _flatten(im)
    im.info = {}
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    source = SourceInfo(fmt, width, height, orientation, animated, captured_at, make, model)
    return Decoded(im, source, notes)


def _open(data: bytes, fmt: str, limits: DecodeLimits) -> Image.Image:
    try:
        im = Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own bomb check runs inside open, before we can see the dimensions.
        raise ImageRejected(
            f"the image declares too many pixels to process safely; the limit is "
            f"{limits.max_pixels / 1e6:.0f} megapixels"
        ) from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(f"the file starts like a {fmt} image but is not a valid one") from exc
    except _DECODE_ERRORS as exc:
        raise ImageRejected(_decode_failure(fmt, exc)) from exc
    width, height = im.size
    if width < 1 or height < 1:
        raise ImageRejected(f"the image has no pixels ({width}x{height})")
    if width * height > limits.max_pixels:
        raise ImageRejected(
            f"the image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"the limit is {limits.max_pixels / 1e6:.0f} megapixels"
        )
    return im


def _decode_failure(fmt: str, exc: BaseException) -> str:
    text = str(exc)
    if "truncated" in text or isinstance(exc, EOFError):
        return f"the {fmt} file is truncated (incomplete upload?)"
    return f"the {fmt} file is corrupt and could not be decoded ({text[:120]})"


def _check_decoded_size(im: Image.Image, limits: DecodeLimits) -> None:
    width, height = im.size
    needed = width * height * _BYTES_PER_PIXEL.get(im.mode, 4)
    if needed > limits.max_decoded_bytes:
        raise ImageRejected(
            f"the {im.format} image is {width}x{height} pixels and would need "
            f"{needed // 2**20} MiB to decode; the limit is {limits.max_decoded_bytes // 2**20} MiB"
        )


def _read_exif(im: Image.Image, notes: list[str]) -> tuple[int, str | None, str | None, str | None]:
    try:
        exif = im.getexif()
        orientation = exif.get(_ORIENTATION, 1)
        taken = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
        make, model = exif.get(_MAKE), exif.get(_MODEL)
    except Exception as exc:
        notes.append(f"unreadable EXIF ignored ({type(exc).__name__})")
        return 1, None, None, None
    if not isinstance(orientation, int) or orientation not in range(1, 9):
        orientation = 1
    return orientation, _exif_datetime(taken), _exif_text(make), _exif_text(model)


def _exif_text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()
    return cleaned[:64] or None


def _exif_datetime(value: object) -> str | None:
    text = _exif_text(value)
    if not text or len(text) < 19:
        return None
    date, _, clock = text[:19].partition(" ")
    parts = date.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or parts[0] == "0000":
        return None
    return f"{parts[0]}-{parts[1]}-{parts[2]}T{clock}"


def _to_reducible_mode(im: Image.Image) -> Image.Image:
    """Modes that Image.reduce and the colour transforms handle; 16-bit becomes 8-bit."""
    if im.mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        return im
    if im.mode in ("P", "PA"):
        has_alpha = im.mode == "PA" or "transparency" in im.info
        return im.convert("RGBA" if has_alpha else "RGB")
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits rather than clip (convert("L") would clip at 255).
        return im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if im.mode == "F":
        return im.convert("L")
    if im.mode == "1":
        return im.convert("L")
    return im.convert("RGBA" if "A" in im.getbands() else "RGB")


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@functools.lru_cache(maxsize=8)
def _transform(icc: bytes, in_mode: str, out_mode: str) -> ImageCms.ImageCmsTransform:
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    return ImageCms.buildTransform(source, _srgb(), in_mode, out_mode)


def _is_srgb(icc: bytes) -> bool:
    # Most cameras embed plain sRGB; converting sRGB to sRGB is a costly no-op.
    try:
        description = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return False
    return "srgb" in description.lower()


def _to_srgb(im: Image.Image, icc: bytes | None, notes: list[str]) -> Image.Image:
    if icc and (im.mode == "CMYK" or not _is_srgb(icc)):
        out_mode = {"RGBA": "RGBA", "LA": "RGBA"}.get(im.mode, "RGB")
        source = im.convert("RGBA") if im.mode == "LA" else im
        try:
            converted = ImageCms.applyTransform(source, _transform(icc, source.mode, out_mode))
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
            notes.append(f"embedded ICC profile ignored ({str(exc)[:80] or type(exc).__name__})")
    if im.mode == "CMYK":
        return im.convert("RGB")
    return im


def _flatten(im: Image.Image) -> Image.Image:
    """RGB with any transparency composited over white (JPEG has no alpha)."""
    if im.mode in ("RGBA", "LA"):
        background = Image.new("RGB", im.size, (255, 255, 255))
        background.paste(im.convert("RGB"), mask=im.getchannel("A"))
        return background
    if im.mode != "RGB":
        return im.convert("RGB")
    return im
