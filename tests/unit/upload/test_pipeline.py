"""The use case's rules: keys, states, duplicates, retries, interrupted attempts, never deleting."""

from __future__ import annotations

import pytest
from upload.decode import DecodeLimits
from upload.errors import WorkInProgressError
from upload.pipeline import Status, UploadLimits, UploadProcessor, parse_key
from upload.ports import PhotoStatus

from tests.unit.upload.corpus import encode, photo
from tests.unit.upload.fakes import MemoryObjectStore, MemoryPhotoRegistry, MemoryWorkClaims

pytestmark = pytest.mark.unit

UPLOADS, DERIVATIVES = "uploads", "derivatives"
EVENT = "e1"
PHOTO = "0b8f3c52-3d7e-4a43-9b39-c1f1f1d0a001"
KEY = f"originals/{EVENT}/{PHOTO}"


@pytest.fixture
def world() -> tuple[MemoryObjectStore, MemoryPhotoRegistry, MemoryWorkClaims, UploadProcessor]:
    store, registry, claims = MemoryObjectStore(), MemoryPhotoRegistry(), MemoryWorkClaims()
    registry.reserve(PHOTO)
    store.add(UPLOADS, KEY, encode(photo(), "JPEG"))
    return store, registry, claims, UploadProcessor(store, registry, claims, derivatives_bucket=DERIVATIVES)


def test_parse_key() -> None:
    parsed = parse_key(KEY)
    assert parsed is not None and (parsed.event_id, parsed.photo_id) == (EVENT, PHOTO)
    assert parsed.derivative_key("thumb", "webp") == f"derivatives/{EVENT}/{PHOTO}/thumb.webp"
    for bad in ("originals/e1", "originals/e1/p1/extra", "uploads/e1/p1", "originals/../p1", "originals/e1/",
                "originals/e 1/p1", f"originals/{'x' * 65}/p1"):
        assert parse_key(bad) is None, bad


def test_ready_with_every_derivative_written_then_registered(world) -> None:  # type: ignore[no-untyped-def]
    store, registry, _, processor = world
    outcome = processor.process(UPLOADS, KEY)
    assert outcome.status is Status.READY
    expected = sorted(f"derivatives/{EVENT}/{PHOTO}/{size}.{fmt}"
                      for size in ("web", "preview", "thumb") for fmt in ("jpg", "webp"))
    assert store.keys(DERIVATIVES) == expected
    record = registry.photos[PHOTO]
    assert record.status is PhotoStatus.READY
    assert sorted(d.key for d in record.derivatives) == expected
    assert record.original is not None and len(record.original.sha256) == 64
    assert (record.original.width, record.original.height) == (480, 320)


def test_duplicate_delivery_does_the_work_once(world) -> None:  # type: ignore[no-untyped-def]
    store, registry, _claims, processor = world
    first = processor.process(UPLOADS, KEY)
    puts = store.puts
    registry.photos[PHOTO].status = PhotoStatus.PENDING  # even if the sidecar answered stale
    second = processor.process(UPLOADS, KEY)
    assert (first.status, second.status) == (Status.READY, Status.SKIPPED)
    assert "duplicate" in second.reason
    assert store.puts == puts and registry.registrations == 1


def test_already_ready_or_failed_photos_are_skipped(world) -> None:  # type: ignore[no-untyped-def]
    store, registry, _, processor = world
    for status in (PhotoStatus.READY, PhotoStatus.FAILED):
        registry.photos[PHOTO].status = status
        assert processor.process(UPLOADS, KEY).status is Status.SKIPPED
    assert store.puts == 0


def test_concurrent_delivery_raises_so_lambda_retries_later(world) -> None:  # type: ignore[no-untyped-def]
    _, _, claims, processor = world
    held = claims.claim(f"{UPLOADS}/{KEY}@{processor.store.head(UPLOADS, KEY).etag}")
    with pytest.raises(WorkInProgressError):
        processor.process(UPLOADS, KEY)
    claims.release(f"{UPLOADS}/{KEY}@{processor.store.head(UPLOADS, KEY).etag}", held.token)
    assert processor.process(UPLOADS, KEY).status is Status.READY


def test_transient_failure_releases_the_lock_and_keeps_the_photo_pending(world) -> None:  # type: ignore[no-untyped-def]
    store, registry, _, processor = world
    store.fail_puts_after = 2
    with pytest.raises(ConnectionError):
        processor.process(UPLOADS, KEY)
    assert registry.photos[PHOTO].status is PhotoStatus.PENDING
    store.fail_puts_after = None
    assert processor.process(UPLOADS, KEY).status is Status.READY  # the retry does it all again
    assert registry.registrations == 1


def test_one_unreleased_attempt_does_not_fail_a_healthy_photo(world) -> None:  # type: ignore[no-untyped-def]
    store, registry, claims, processor = world
    etag = store.head(UPLOADS, KEY).etag
    # A delivery met a transient failure and its release never reached Redis (Redis failing).
    claims.claim(f"{UPLOADS}/{KEY}@{etag}")
    claims.expire_locks()
    assert processor.process(UPLOADS, KEY).status is Status.READY
    assert registry.photos[PHOTO].status is PhotoStatus.READY


def test_an_image_that_keeps_killing_the_function_ends_failed_not_pending(world) -> None:  # type: ignore[no-untyped-def]
    store, registry, claims, processor = world
    etag = store.head(UPLOADS, KEY).etag
    for _ in range(2):  # two deliveries took the lock, then were killed (OOM) mid-way
        claims.claim(f"{UPLOADS}/{KEY}@{etag}")
        claims.expire_locks()  # its lock ran out
    outcome = processor.process(UPLOADS, KEY)
    assert outcome.status is Status.FAILED
    assert "interrupted" in registry.photos[PHOTO].reason
    assert processor.process(UPLOADS, KEY).status is Status.SKIPPED


def test_registration_refused_marks_the_photo_failed(world) -> None:  # type: ignore[no-untyped-def]
    _, registry, _, processor = world
    registry.refuse_registration = True
    outcome = processor.process(UPLOADS, KEY)
    assert outcome.status is Status.FAILED
    assert "could not be registered" in registry.photos[PHOTO].reason


def test_unknown_keys_and_photos_are_ignored(world) -> None:  # type: ignore[no-untyped-def]
    store, _, _, processor = world
    assert processor.process(UPLOADS, "elsewhere/x.jpg").status is Status.IGNORED
    other = "originals/e1/1f1f1f1f-0000-4000-8000-000000000000"
    store.add(UPLOADS, other, b"whatever")
    assert processor.process(UPLOADS, other).status is Status.IGNORED
    assert processor.process(UPLOADS, f"originals/e1/{PHOTO[:-1]}9").status is Status.IGNORED


def test_object_deleted_before_processing_is_ignored(world) -> None:  # type: ignore[no-untyped-def]
    store, registry, _, processor = world
    del store.objects[(UPLOADS, KEY)]
    assert processor.process(UPLOADS, KEY).status is Status.IGNORED
    assert registry.photos[PHOTO].status is PhotoStatus.PENDING


def test_too_large_original_fails_without_download(world) -> None:  # type: ignore[no-untyped-def]
    store, registry, claims, _ = world
    processor = UploadProcessor(store, registry, claims, derivatives_bucket=DERIVATIVES,
                                limits=UploadLimits(max_bytes=1000, decode=DecodeLimits()))
    outcome = processor.process(UPLOADS, KEY)
    assert outcome.status is Status.FAILED and "limit is" in outcome.reason
    assert (UPLOADS, KEY) in store.objects


def test_watermark_text_comes_from_object_metadata(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store, _, _, processor = world
    seen: list[str] = []
    import upload.pipeline as pipeline

    real = pipeline.render

    def spy(data: bytes, text: str, *args: object) -> object:
        seen.append(text)
        return real(data, text, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "render", spy)
    store.add(UPLOADS, KEY, encode(photo(), "JPEG"), {"watermark": "Studio\nNorth"})
    processor.process(UPLOADS, KEY)
    other = "originals/e1/2f1f1f1f-0000-4000-8000-000000000000"
    processor.registry.reserve("2f1f1f1f-0000-4000-8000-000000000000")  # type: ignore[attr-defined]
    store.add(UPLOADS, other, encode(photo(), "PNG"))
    processor.process(UPLOADS, other)
    assert seen == ["Studio North", "photostack"]
