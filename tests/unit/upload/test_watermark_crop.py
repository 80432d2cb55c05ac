"""The watermark survives a crop of the central 50%: found by correlation with the known pattern.

A crop of the real watermarked preview of a real photo carries the mark by tens of standard
deviations (``tests.watermark_detector``); the same crop of the clean web size does not.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from upload.derivatives import render

from tests.watermark_detector import ABSENT, FOUND, mark_strength

pytestmark = pytest.mark.unit

PHOTO = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "faces" / "groups" / "bbt1.jpg"
TEXT = "Ana Lopez Photography"


def central_half(im: Image.Image) -> Image.Image:
    w, h = im.size
    return im.crop((w // 4, h // 4, w // 4 + w // 2, h // 4 + h // 2))


@pytest.fixture(scope="module")
def renditions() -> dict[tuple[str, str], Image.Image]:
    if not PHOTO.exists():
        pytest.fail(f"{PHOTO} is missing (the shared face set: ../shared/data/faces)")
    rendered = render(PHOTO.read_bytes(), TEXT)
    return {(r.size, r.format): Image.open(io.BytesIO(r.body)).convert("RGB") for r in rendered.renditions}


@pytest.mark.parametrize("fmt", ["jpg", "webp"])
def test_the_central_half_of_a_real_preview_still_carries_the_mark(
        renditions: dict[tuple[str, str], Image.Image], fmt: str) -> None:
    preview = renditions[("preview", fmt)]
    crop = central_half(preview)
    assert crop.width * 2 <= preview.width and crop.height * 2 <= preview.height
    assert mark_strength(crop, TEXT, preview.size) > FOUND
    # Saved again as a lower-quality JPEG (a screenshot, a re-post), it still does.
    again = io.BytesIO()
    crop.save(again, "JPEG", quality=60)
    assert mark_strength(Image.open(again), TEXT, preview.size) > FOUND


def test_the_detector_finds_nothing_in_the_same_crop_without_the_mark(
        renditions: dict[tuple[str, str], Image.Image]) -> None:
    preview = renditions[("preview", "jpg")]
    clean = renditions[("web", "jpg")].resize(preview.size, Image.Resampling.BICUBIC)
    assert mark_strength(central_half(clean), TEXT, preview.size) < ABSENT
    # In a marked crop, the pattern of another text matches far worse: it is this mark that is found.
    marked = central_half(preview)
    assert mark_strength(marked, "someone else", preview.size) < mark_strength(marked, TEXT, preview.size) / 2
