"""Rebuilding a ready photo's lost derivatives from its original (what the storage check asks for)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from upload.pipeline import Status, UploadProcessor
from upload.ports import PhotoStatus
from upload.reconcile import MAX_REBUILDS_PER_CALL, RebuildRequest, Reconciler, rebuild_requests

from tests.unit.upload.corpus import encode, photo
from tests.unit.upload.fakes import MemoryObjectStore, MemoryPhotoRegistry, MemoryWorkClaims

pytestmark = pytest.mark.unit

UPLOADS, DERIVATIVES = "uploads", "derivatives"
PHOTO = "0b8f3c52-3d7e-4a43-9b39-c1f1f1d0a001"
KEY = f"originals/e1/{PHOTO}"

World = tuple[MemoryObjectStore, MemoryPhotoRegistry, MemoryWorkClaims, UploadProcessor]


@pytest.fixture
def world() -> World:
    """A photo processed the normal way: ready, its derivatives written."""
    store, registry, claims = MemoryObjectStore(), MemoryPhotoRegistry(), MemoryWorkClaims()
    registry.reserve(PHOTO)
    store.add(UPLOADS, KEY, encode(photo(), "JPEG"), {"watermark": "(c) Studio"})
    processor = UploadProcessor(store, registry, claims, derivatives_bucket=DERIVATIVES)
    assert processor.process(UPLOADS, KEY).status is Status.READY
    return store, registry, claims, processor


def recorded(registry: MemoryPhotoRegistry) -> tuple[str, str]:
    original = registry.photos[PHOTO].original
    assert original is not None
    return original.sha256, original.etag


def test_lost_derivatives_are_written_again_and_the_photo_stays_ready(world: World) -> None:
    store, registry, claims, processor = world
    before = store.keys(DERIVATIVES)
    for key in before[:3]:
        del store.objects[(DERIVATIVES, key)]
    sha256, etag = recorded(registry)

    outcome = processor.rebuild(UPLOADS, KEY, sha256=sha256, etag=etag)

    assert (outcome.status, outcome.photo_id) == (Status.READY, PHOTO)
    assert store.keys(DERIVATIVES) == before  # the same keys: the registered rows stay right
    assert all(store.objects[(DERIVATIVES, k)].body for k in before)
    assert registry.photos[PHOTO].status is PhotoStatus.READY
    # Idempotent, and no work claim is left to stop a later rebuild.
    assert processor.rebuild(UPLOADS, KEY, sha256=sha256, etag=etag).status is Status.READY
    assert not claims.locks and len(claims.done) == 1  # only the upload's own


def test_an_original_that_is_not_the_registered_one_is_not_used(world: World) -> None:
    store, registry, _, processor = world
    sha256, etag = recorded(registry)
    puts = store.puts
    replaced = encode(photo(200, 100), "JPEG")
    store.add(UPLOADS, KEY, replaced)

    by_etag = processor.rebuild(UPLOADS, KEY, sha256=sha256, etag=etag)
    assert by_etag.status is Status.FAILED and "ETag" in by_etag.reason
    # Without a recorded ETag the hash still catches it, before anything is written.
    by_hash = processor.rebuild(UPLOADS, KEY, sha256=sha256)
    assert by_hash.status is Status.FAILED and hashlib.sha256(replaced).hexdigest() in by_hash.reason
    assert store.puts == puts
    assert registry.photos[PHOTO].status is PhotoStatus.READY  # failing it is the caller's


def test_the_sidecar_refusing_the_rebuilt_derivatives_is_a_failure_not_a_rebuild(world: World) -> None:
    _, registry, _, processor = world
    sha256, _etag = recorded(registry)
    record = registry.photos[PHOTO]
    record.derivatives = record.derivatives[:1]  # registered with other keys than a rebuild writes
    outcome = processor.rebuild(UPLOADS, KEY, sha256=sha256)
    assert outcome.status is Status.FAILED and "refused" in outcome.reason


def test_a_missing_original_or_a_photo_no_longer_ready_is_not_rebuilt(world: World) -> None:
    store, registry, _, processor = world
    sha256, etag = recorded(registry)
    registry.photos[PHOTO].status = PhotoStatus.FAILED
    assert processor.rebuild(UPLOADS, KEY, sha256=sha256, etag=etag).status is Status.SKIPPED
    registry.photos[PHOTO].status = PhotoStatus.READY
    del store.objects[(UPLOADS, KEY)]
    gone = processor.rebuild(UPLOADS, KEY, sha256=sha256, etag=etag)
    assert (gone.status, gone.reason) == (Status.FAILED, "the original no longer exists")
    assert processor.rebuild(UPLOADS, "originals/x", sha256=sha256).status is Status.IGNORED


class BrokenProcessor:
    def process(self, bucket: str, key: str) -> Any:
        raise AssertionError("not called")

    def rebuild(self, bucket: str, key: str, *, sha256: str, etag: str = "") -> Any:
        raise ConnectionError("the photo service is unavailable")


def test_the_reconciler_answers_each_photo_and_an_outage_as_an_error(world: World) -> None:
    _, registry, _, processor = world
    sha256, etag = recorded(registry)
    reconciler = Reconciler(processor, None, None, uploads_bucket=UPLOADS, dlq_url="")
    [answer] = reconciler.rebuild([RebuildRequest(KEY, sha256, etag)])
    assert (answer["photo_id"], answer["status"]) == (PHOTO, "ready")

    broken = Reconciler(BrokenProcessor(), None, None, uploads_bucket=UPLOADS, dlq_url="")
    [error] = broken.rebuild([RebuildRequest(KEY, sha256, etag)])
    assert error["status"] == "error" and "unavailable" in error["reason"]
    with pytest.raises(ValueError, match="at most"):
        reconciler.rebuild([RebuildRequest(KEY, sha256)] * (MAX_REBUILDS_PER_CALL + 1))


def test_the_handler_takes_only_well_formed_rebuild_requests() -> None:
    sha = "a" * 64
    assert rebuild_requests([{"key": KEY, "sha256": sha, "etag": "e"}]) == [RebuildRequest(KEY, sha, "e")]
    for bad in ("x", [{"key": KEY}], [{"key": "", "sha256": sha}], [{"key": KEY, "sha256": sha, "etag": 1}],
                [{"key": KEY, "sha256": sha}] * (MAX_REBUILDS_PER_CALL + 1)):
        with pytest.raises(ValueError):
            rebuild_requests(bad)
