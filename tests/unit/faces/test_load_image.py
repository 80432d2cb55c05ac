"""Decoding for face work: upright, RGB, bounded size."""

from __future__ import annotations

import io

import pytest
from facerec.pipeline import WORKING_LONG_EDGE, load_image
from PIL import Image

pytestmark = pytest.mark.unit


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: displayed rotated by 90 degrees
    data = _encode(Image.new("RGB", (400, 300), (200, 10, 10)), "JPEG", exif=exif)
    assert load_image(data).size == (300, 400)


def test_greyscale_becomes_rgb() -> None:
    image = load_image(_encode(Image.new("L", (50, 40), 90), "PNG"))
    assert image.mode == "RGB" and image.getpixel((0, 0)) == (90, 90, 90)


def test_large_photos_are_brought_down_to_the_working_size() -> None:
    image = load_image(_encode(Image.new("RGB", (4000, 1000), (0, 90, 0)), "JPEG"))
    assert max(image.size) <= WORKING_LONG_EDGE
    assert image.size[0] / image.size[1] == pytest.approx(4.0, rel=0.01)


def test_webp_is_accepted() -> None:
    assert load_image(_encode(Image.new("RGB", (64, 48)), "WEBP")).size == (64, 48)
