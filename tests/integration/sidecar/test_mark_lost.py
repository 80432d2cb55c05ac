"""MarkLost, the storage check's one change, on the real PostgreSQL: a ready photo becomes failed
with the reason and readers see it at once; anything not ready is left as it is; only a service
caller (the operator's certificate, see sidecar/access.py) may ask. MarkLostBatch applies the same
rule to up to 500 photos in one transaction; the storage check calls it through the real sidecar."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from infra import storage_check
from sidecar import domain as d
from sidecar.service import MAX_LOST_PER_CALL, PhotoService
from tests.identity import photo_client
from tests.integration.sidecar.test_service import processed
from tests.sidecar_process import SidecarProcess

pytestmark = pytest.mark.integration

REASON = "lost from storage: the original s3://photostack-uploads/originals/e/p"


def test_a_ready_photo_becomes_failed_with_the_reason_and_readers_see_it(
    service: PhotoService, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    service.register_derivatives(pipeline, photo.id, processed(photo.id))
    assert service.get_photo(owner, photo.id).status == "ready"  # now in the cache
    lost = service.mark_lost(pipeline, photo.id, REASON)
    assert (lost.status, lost.failure_reason) == ("failed", REASON)
    seen = service.get_photo(owner, photo.id)
    assert (seen.status, seen.failure_reason) == ("failed", REASON)
    # A second check changes nothing.
    again = service.mark_lost(pipeline, photo.id, "lost from storage: something else")
    assert (again.status, again.failure_reason) == ("failed", REASON)


def test_a_photo_that_is_not_ready_is_left_alone(
    service: PhotoService, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    pending = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    assert service.mark_lost(pipeline, pending.id, REASON).status == "pending"
    failed = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    service.mark_failed(pipeline, failed.id, "corrupt image")
    kept = service.mark_lost(pipeline, failed.id, REASON)
    assert (kept.status, kept.failure_reason) == ("failed", "corrupt image")
    with pytest.raises(d.NotFound):
        service.mark_lost(pipeline, str(uuid.uuid4()), REASON)


def test_only_a_service_caller_marks_and_a_reason_is_required(
    service: PhotoService, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    service.register_derivatives(pipeline, photo.id, processed(photo.id))
    with pytest.raises(d.PermissionDenied):
        service.mark_lost(owner, photo.id, REASON)
    with pytest.raises(d.InvalidArgument):
        service.mark_lost(pipeline, photo.id, "   ")
    assert service.get_photo(owner, photo.id).status == "ready"


# --- MarkLostBatch: the same rule for many photos in one transaction -----------------------------


def ready_photo(service: PhotoService, owner: d.Caller, pipeline: d.Caller, event: d.Event) -> d.Photo:
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    return service.register_derivatives(pipeline, photo.id, processed(photo.id))


def test_a_batch_marks_each_ready_photo_and_answers_the_others_as_they_are(
    service: PhotoService, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    first, second = (ready_photo(service, owner, pipeline, event) for _ in range(2))
    assert service.get_photo(owner, first.id).status == "ready"  # now in the cache
    pending = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    failed = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    service.mark_failed(pipeline, failed.id, "corrupt image")
    unknown = str(uuid.uuid4())
    answer = service.mark_lost_many(pipeline, [
        (second.id, REASON + "/2"), (unknown, REASON), (first.id, REASON), ("not-an-id", REASON),
        (pending.id, REASON), (failed.id, REASON), (first.id, "lost from storage: said twice"),
    ])
    # Request order, each existing photo once (its first reason); the unknown ones are absent.
    assert [(p.id, p.status, p.failure_reason) for p in answer] == [
        (second.id, "failed", REASON + "/2"), (first.id, "failed", REASON),
        (pending.id, "pending", None), (failed.id, "failed", "corrupt image")]
    seen = service.get_photo(owner, first.id)  # the cache forgot it
    assert (seen.status, seen.failure_reason) == ("failed", REASON)
    assert service.get_photo(owner, second.id).status == "failed"
    # A second check changes nothing.
    again = service.mark_lost_many(pipeline, [(first.id, "lost from storage: something else")])
    assert [(p.status, p.failure_reason) for p in again] == [("failed", REASON)]


def test_a_batch_is_bounded_operator_only_and_all_or_nothing_on_bad_reasons(
    service: PhotoService, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    photo = ready_photo(service, owner, pipeline, event)
    too_many = [(photo.id, REASON)] * (MAX_LOST_PER_CALL + 1)
    with pytest.raises(d.InvalidArgument, match=f"at most {MAX_LOST_PER_CALL} photos per MarkLostBatch"):
        service.mark_lost_many(pipeline, too_many)
    with pytest.raises(d.InvalidArgument, match="at least one photo"):
        service.mark_lost_many(pipeline, [])
    with pytest.raises(d.PermissionDenied):
        service.mark_lost_many(owner, [(photo.id, REASON)])
    with pytest.raises(d.InvalidArgument, match="reason"):
        service.mark_lost_many(pipeline, [(photo.id, REASON), (str(uuid.uuid4()), "  ")])
    assert service.get_photo(owner, photo.id).status == "ready"
    # The most a call may hold is accepted.
    answer = service.mark_lost_many(pipeline, [(photo.id, REASON)] * MAX_LOST_PER_CALL)
    assert [(p.id, p.status) for p in answer] == [(photo.id, "failed")]


# --- the storage check through the real sidecar process, as the operator --------------------------


@pytest.fixture(scope="module")
def sidecar(database_url: str) -> Iterator[SidecarProcess]:
    proc = SidecarProcess().start()
    yield proc
    proc.stop()


def loss(photo: d.Photo) -> storage_check.Loss:
    return storage_check.Loss(photo.id, photo.event_id, (f"s3://uploads/{photo.original_key}",),
                              original_missing=True)


def test_the_storage_check_marks_in_batches_through_the_sidecar_as_the_operator(
    sidecar: SidecarProcess, service: PhotoService, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    ready = [ready_photo(service, owner, pipeline, event) for _ in range(5)]
    deleted = ready_photo(service, owner, pipeline, event)
    changed_meanwhile = ready_photo(service, owner, pipeline, event)
    losses = [loss(p) for p in [*ready, deleted, changed_meanwhile]]
    service.delete_photo(owner, deleted.id)
    service.mark_lost(pipeline, changed_meanwhile.id, "lost from storage: another check")

    changed = storage_check.mark_lost(photo_client(sidecar, "photostack-operator"), losses, batch=3)

    assert [x.photo_id for x in changed] == [p.id for p in ready]
    for photo, lost in zip(ready, losses, strict=False):
        seen = service.get_photo(owner, photo.id)
        assert (seen.status, seen.failure_reason) == ("failed", lost.reason)
    assert service.get_photo(owner, changed_meanwhile.id).failure_reason == "lost from storage: another check"


def test_the_sidecar_refuses_a_batch_too_big_or_from_anyone_but_the_operator(
    sidecar: SidecarProcess, service: PhotoService, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    photo = ready_photo(service, owner, pipeline, event)
    with pytest.raises(storage_check.SidecarUnavailable,
                       match=f"at most {MAX_LOST_PER_CALL} photos per MarkLostBatch call"):
        storage_check.mark_lost(photo_client(sidecar, "photostack-operator"), [loss(photo)] * 501,
                                batch=MAX_LOST_PER_CALL + 1)
    with pytest.raises(storage_check.SidecarUnavailable, match="may not call"):
        storage_check.mark_lost(photo_client(sidecar, "photostack-upload"), [loss(photo)])
    assert service.get_photo(owner, photo.id).status == "ready"
