"""Every case of the corpus ends as a ready photo or a failed one with a clear reason, never a crash."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from upload.pipeline import Status, UploadProcessor
from upload.ports import PhotoStatus

from tests.unit.upload.corpus import CASES, Case
from tests.unit.upload.fakes import MemoryObjectStore, MemoryPhotoRegistry, MemoryWorkClaims

pytestmark = pytest.mark.unit

UPLOADS, DERIVATIVES = "uploads", "derivatives"
EVENT_ID = "6f1c1b8e-4c1e-4d59-9a55-2f1f0d1f7a10"


def run_case(case: Case, photo_id: str) -> tuple[MemoryObjectStore, MemoryPhotoRegistry, object]:
    store, registry = MemoryObjectStore(), MemoryPhotoRegistry()
    key = f"originals/{EVENT_ID}/{photo_id}"
    store.add(UPLOADS, key, case.make(), {"watermark": case.watermark} if case.watermark else None)
    registry.reserve(photo_id)
    processor = UploadProcessor(store, registry, MemoryWorkClaims(), derivatives_bucket=DERIVATIVES)
    outcome = processor.process(UPLOADS, key)
    return store, registry, outcome


def assert_close(actual: tuple[int, ...], expected: tuple[int, int, int], what: str) -> None:
    # JPEG/WebP at quality ~80 and chroma subsampling move flat colours by a few levels.
    assert all(abs(a - e) <= 24 for a, e in zip(actual[:3], expected, strict=True)), (what, actual, expected)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_ends_ready_or_failed_with_a_reason(case: Case) -> None:
    photo_id = "a0000000-0000-4000-8000-000000000001"
    store, registry, outcome = run_case(case, photo_id)
    record = registry.photos[photo_id]

    assert outcome.status.value == case.status, outcome  # type: ignore[attr-defined]
    assert (UPLOADS, f"originals/{EVENT_ID}/{photo_id}") in store.objects, "the original must never go"
    if case.status == "failed":
        assert record.status is PhotoStatus.FAILED
        assert case.reason in record.reason, record.reason
        assert store.keys(DERIVATIVES) == [], "a failed photo leaves no derivatives behind"
        return

    assert record.status is PhotoStatus.READY
    assert case.reason in outcome.reason  # type: ignore[attr-defined]
    assert len(record.derivatives) == 6
    for derivative in record.derivatives:
        body = store.objects[(DERIVATIVES, derivative.key)].body
        with Image.open(io.BytesIO(body)) as im:
            assert im.size == (derivative.width, derivative.height)
            assert im.format == {"jpg": "JPEG", "webp": "WEBP"}[derivative.format]
            rgb = im.convert("RGB")
        for size, fx, fy, expected in case.pixels:
            if size == derivative.size:
                x = min(int(fx * rgb.width), rgb.width - 1)
                y = min(int(fy * rgb.height), rgb.height - 1)
                assert_close(rgb.getpixel((x, y)), expected, f"{derivative.key} at {fx},{fy}")  # type: ignore[arg-type]


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 25
    assert {c.status for c in CASES} == {"ready", "failed"}


def test_orientation_swaps_the_recorded_dimensions() -> None:
    for orientation, expected in ((1, (480, 320)), (6, (480, 320)), (8, (480, 320))):
        case = next(c for c in CASES if c.name == f"EXIF orientation {orientation}")
        _, registry, outcome = run_case(case, "b0000000-0000-4000-8000-000000000001")
        original = registry.photos["b0000000-0000-4000-8000-000000000001"].original
        assert original is not None
        assert (original.width, original.height) == expected, orientation
        assert outcome.status is Status.READY  # type: ignore[attr-defined]
