"""Sizes, formats, metadata stripping and the watermark of the derivative set."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageStat
from upload import watermark
from upload.decode import decode
from upload.derivatives import fit, render

from tests.unit.upload.corpus import encode, gps_jpeg, photo

pytestmark = pytest.mark.unit


def big_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    return encode(photo(width, height), "JPEG", quality=90)


def test_three_sizes_in_two_formats_from_one_decode() -> None:
    rendered = render(big_jpeg(), "Jane Doe")
    got = {(r.size, r.format): (r.width, r.height) for r in rendered.renditions}
    assert got == {
        ("web", "jpg"): (2048, 1536), ("web", "webp"): (2048, 1536),
        ("preview", "jpg"): (1280, 960), ("preview", "webp"): (1280, 960),
        ("thumb", "jpg"): (320, 240), ("thumb", "webp"): (320, 240),
    }
    for rendition in rendered.renditions:
        with Image.open(io.BytesIO(rendition.body)) as im:
            assert im.size == (rendition.width, rendition.height)
            if rendition.format == "jpg":
                assert im.info.get("progressive") or im.info.get("progression"), "JPEGs are progressive"


def test_jpeg_is_decoded_at_reduced_scale() -> None:
    decoded = decode(big_jpeg(8000, 6000), 2048)
    # DCT scaling 1/2 gives 4000x3000 (>= 2048), then reduce(1)... never the full 48 MP.
    assert max(decoded.image.size) < 4096
    assert (decoded.source.width, decoded.source.height) == (8000, 6000)


def test_small_images_are_never_upscaled() -> None:
    rendered = render(encode(photo(300, 200), "PNG"), "x")
    sizes = {r.size: (r.width, r.height) for r in rendered.renditions}
    assert sizes == {"web": (300, 200), "preview": (300, 200), "thumb": (300, 200)}


def test_fit_keeps_the_aspect_ratio() -> None:
    assert fit(6000, 4000, 2048) == (2048, 1365)
    assert fit(4000, 6000, 320) == (213, 320)
    assert fit(8000, 10, 320) == (320, 1)
    assert fit(100, 50, 320) == (100, 50)


def test_no_exif_gps_xmp_or_camera_data_in_any_derivative() -> None:
    rendered = render(gps_jpeg(), "Jane")
    assert rendered.source.captured_at == "2024-05-17T14:03:59"
    assert (rendered.source.camera_make, rendered.source.camera_model) == ("Canon", "Canon EOS R5")
    for rendition in rendered.renditions:
        body = rendition.body
        for marker in (b"Exif", b"GPS", b"xmpmeta", b"Canon", b"Secret Editing", b"ICC_PROFILE"):
            assert marker not in body, (rendition.size, rendition.format, marker)
        with Image.open(io.BytesIO(body)) as im:
            assert not im.getexif()
            assert "exif" not in im.info and "xmp" not in im.info and "icc_profile" not in im.info


def test_the_preview_carries_a_visible_watermark_and_the_others_do_not() -> None:
    rendered = render(big_jpeg(), "Jane Doe Photography")
    by_kind = {(r.size, r.format): r for r in rendered.renditions}
    web = Image.open(io.BytesIO(by_kind[("web", "jpg")].body)).convert("RGB")
    preview = Image.open(io.BytesIO(by_kind[("preview", "jpg")].body)).convert("RGB")
    clean = web.resize(preview.size, Image.Resampling.LANCZOS)
    diff = ImageChops.difference(preview, clean).convert("L")
    # Tiled over the whole frame: every quarter of the preview is marked, not just a corner.
    for box in ((0, 0, 640, 480), (640, 0, 1280, 480), (0, 480, 640, 960), (640, 480, 1280, 960)):
        marked = sum(diff.crop(box).histogram()[41:])
        assert marked > 0.02 * 640 * 480, box
    thumb = Image.open(io.BytesIO(by_kind[("thumb", "jpg")].body)).convert("RGB")
    thumb_clean = web.resize(thumb.size, Image.Resampling.LANCZOS)
    assert ImageStat.Stat(ImageChops.difference(thumb, thumb_clean).convert("L")).mean[0] < 4


def test_watermark_text_is_cleaned_and_defaults() -> None:
    assert watermark.clean_text(None) == "photostack"
    assert watermark.clean_text("  \n\t ") == "photostack"
    assert watermark.clean_text("Jane\x00 \n Doe") == "Jane Doe"
    assert len(watermark.clean_text("x" * 500)) == watermark.MAX_TEXT_CHARS


def test_different_texts_give_different_previews() -> None:
    base = Image.new("RGB", (640, 480), (90, 120, 150))
    a, b = watermark.apply(base, "Alice"), watermark.apply(base, "Bob Studio")
    assert ImageChops.difference(a, b).getbbox() is not None
    assert ImageChops.difference(a, base).getbbox() is not None
