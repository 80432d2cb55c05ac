"""MarkLost, the storage check's one change, on the real PostgreSQL: a ready photo becomes failed
with the reason and readers see it at once; anything not ready is left as it is; only a service
caller (the operator's certificate, see sidecar/access.py) may ask."""

from __future__ import annotations

import uuid

import pytest

from sidecar import domain as d
from sidecar.service import PhotoService
from tests.integration.sidecar.test_service import processed

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
