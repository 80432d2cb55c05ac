"""From one decode, every derivative: web (2048), watermarked preview (1280) and thumbnail (320).

Each size is resampled from the previous one (web -> preview -> thumbnail) rather than from the
original, which is what makes the set cheap; the thumbnail is taken from the preview before the
watermark goes on. Outputs are progressive JPEG and WebP with no EXIF, GPS, XMP or ICC data:
the pixels are sRGB, which is what a browser assumes for an untagged image.
"""

from __future__ import annotations

import io
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from PIL import Image

from upload import watermark
from upload.decode import DecodeLimits, SourceInfo, decode


@dataclass(frozen=True)
class SizeSpec:
    name: str
    long_edge: int
    watermarked: bool


SIZES = (
    SizeSpec("web", 2048, watermarked=False),
    SizeSpec("preview", 1280, watermarked=True),
    SizeSpec("thumb", 320, watermarked=False),
)


@dataclass(frozen=True)
class EncodeSettings:
    jpeg_quality: int = 82
    webp_quality: int = 80
    webp_method: int = 4  # libwebp effort 0..6; 4 is its default and vips' default effort too


@dataclass(frozen=True)
class Rendition:
    size: str  # "web" | "preview" | "thumb"
    format: str  # "jpg" | "webp"
    content_type: str
    width: int
    height: int
    body: bytes = field(repr=False)


@dataclass
class Rendered:
    source: SourceInfo
    renditions: list[Rendition]
    notes: list[str]


def fit(width: int, height: int, long_edge: int) -> tuple[int, int]:
    """The size with the given long edge and the same aspect ratio; never larger than the input."""
    scale = long_edge / max(width, height)
    if scale >= 1:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def render(
    data: bytes,
    watermark_text: str,
    limits: DecodeLimits = DecodeLimits(),
    settings: EncodeSettings = EncodeSettings(),
) -> Rendered:
    decoded = decode(data, SIZES[0].long_edge, limits)
    source = decoded.source
    jpegs: list[Rendition] = []
    webps: list[Future[Rendition]] = []
    current = decoded.image
    # libwebp releases the GIL and is the slowest step, so WebP encodes run on one worker
    # thread while this one resizes and writes the JPEGs; on a fractional-vCPU Lambda this
    # costs nothing, on more cores it overlaps.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="webp") as webp_worker:
        for spec in SIZES:
            current = _resize(current, fit(source.width, source.height, spec.long_edge), spec)
            out = watermark.apply(current, watermark_text) if spec.watermarked else current
            webps.append(webp_worker.submit(encode_webp, out, spec.name, settings))
            jpegs.append(encode_jpeg(out, spec.name, settings))
        renditions = [r for pair in zip(jpegs, (f.result() for f in webps), strict=True) for r in pair]
    return Rendered(source, renditions, decoded.notes)


def _resize(im: Image.Image, size: tuple[int, int], spec: SizeSpec) -> Image.Image:
    if im.size == size:
        return im
    # The larger sizes come from an image at most ~2x bigger (DCT-scaled or reduced), where
    # bicubic is indistinguishable from Lanczos and a third cheaper; the thumbnail keeps
    # Lanczos for its crispness at 4x.
    resample = Image.Resampling.LANCZOS if spec.long_edge <= 512 else Image.Resampling.BICUBIC
    return im.resize(size, resample, reducing_gap=3.0)


def encode_jpeg(im: Image.Image, size: str, settings: EncodeSettings) -> Rendition:
    buffer = io.BytesIO()
    # exif/icc_profile passed empty on purpose: nothing of the original's metadata goes out.
    im.save(buffer, "JPEG", quality=settings.jpeg_quality, progressive=True, optimize=True,
            subsampling="4:2:0", exif=b"", icc_profile=None)
    return Rendition(size, "jpg", "image/jpeg", im.width, im.height, buffer.getvalue())


def encode_webp(im: Image.Image, size: str, settings: EncodeSettings) -> Rendition:
    buffer = io.BytesIO()
    im.save(buffer, "WEBP", quality=settings.webp_quality, method=settings.webp_method, exif=b"", xmp=b"")
    return Rendition(size, "webp", "image/webp", im.width, im.height, buffer.getvalue())
