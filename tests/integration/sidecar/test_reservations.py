"""Reservations whose bytes never came, on the real PostgreSQL: listed once idle, expired by
the sidecar (failed, with the reason) only while still idle, renewed ones left alone."""

from __future__ import annotations

import uuid

import pytest
from photostack.db import Database

from sidecar import domain as d
from sidecar import reservations
from sidecar.service import PhotoService
from tests.integration.sidecar.test_service import processed

pytestmark = pytest.mark.integration

IDLE_S = 600


def age(db: Database, photo_id: str, seconds: int) -> None:
    """The reservation as if it was made (or last renewed) ``seconds`` ago."""
    with db.cursor() as cur:
        cur.execute("UPDATE photos SET updated_at = clock_timestamp() - make_interval(secs => %s)"
                    " WHERE id = %s", (seconds, photo_id))


def idle_ids(service: PhotoService, caller: d.Caller, event: d.Event) -> list[str]:
    return [p.id for p in service.list_idle_reservations(caller, idle_s=IDLE_S, event_id=event.id, limit=0)]


def test_an_idle_reservation_is_listed_and_expired_with_the_reason(
    service: PhotoService, photos_db: Database, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    idle = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    fresh = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    age(photos_db, idle.id, IDLE_S + 5)
    assert idle_ids(service, pipeline, event) == [idle.id]
    listed = service.list_idle_reservations(pipeline, idle_s=IDLE_S, event_id=event.id, limit=10)[0]
    assert listed.original_key == f"originals/{event.id}/{idle.id}"

    expired = service.expire_reservation(pipeline, idle.id, idle_s=IDLE_S)
    assert expired.status == "failed"
    assert expired.failure_reason == reservations.expired_reason(IDLE_S)
    assert "upload expired" in (expired.failure_reason or "")
    # The owner sees it failed (through the cache too), and it is no longer listed.
    assert service.get_photo(owner, idle.id).status == "failed"
    assert idle_ids(service, pipeline, event) == []
    # Expiring again changes nothing; a fresh reservation is not expired.
    assert service.expire_reservation(pipeline, idle.id, idle_s=IDLE_S).status == "failed"
    assert service.expire_reservation(pipeline, fresh.id, idle_s=IDLE_S).status == "pending"
    assert service.get_photo(owner, fresh.id).status == "pending"


def test_a_renewed_reservation_is_not_idle_and_not_expired(
    service: PhotoService, photos_db: Database, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    key = f"renew-{uuid.uuid4().hex[:8]}"
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000, key)
    age(photos_db, photo.id, IDLE_S + 5)
    assert idle_ids(service, pipeline, event) == [photo.id]
    # The photographer asks again with the same key (a resumed upload): a new URL, a new clock.
    assert service.reserve_photo(owner, event.id, "image/jpeg", 1000, key).id == photo.id
    assert idle_ids(service, pipeline, event) == []
    # The reconciler listed it before the renewal: the expiry re-checks and leaves it pending.
    assert service.expire_reservation(pipeline, photo.id, idle_s=IDLE_S).status == "pending"
    assert service.get_photo(owner, photo.id).status == "pending"


def test_ready_failed_and_deleted_photos_are_never_expired(
    service: PhotoService, photos_db: Database, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    ready = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    service.register_derivatives(pipeline, ready.id, processed(ready.id))
    failed = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    service.mark_failed(pipeline, failed.id, "corrupt image")
    for photo in (ready, failed):
        age(photos_db, photo.id, IDLE_S + 5)
    assert idle_ids(service, pipeline, event) == []
    assert service.expire_reservation(pipeline, ready.id, idle_s=IDLE_S).status == "ready"
    kept = service.expire_reservation(pipeline, failed.id, idle_s=IDLE_S)
    assert (kept.status, kept.failure_reason) == ("failed", "corrupt image")
    with pytest.raises(d.NotFound):
        service.expire_reservation(pipeline, str(uuid.uuid4()), idle_s=IDLE_S)


def test_only_the_pipeline_lists_and_expires_and_the_arguments_are_checked(
    service: PhotoService, photos_db: Database, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    age(photos_db, photo.id, IDLE_S + 5)
    with pytest.raises(d.PermissionDenied):
        service.list_idle_reservations(owner, idle_s=IDLE_S, event_id=event.id, limit=0)
    with pytest.raises(d.PermissionDenied):
        service.expire_reservation(owner, photo.id, idle_s=IDLE_S)
    for bad in (0, -1, reservations.MAX_IDLE_S + 1):
        with pytest.raises(d.InvalidArgument):
            service.list_idle_reservations(pipeline, idle_s=bad, event_id="", limit=0)
        with pytest.raises(d.InvalidArgument):
            service.expire_reservation(pipeline, photo.id, idle_s=bad)
    with pytest.raises(d.InvalidArgument):
        service.list_idle_reservations(pipeline, idle_s=IDLE_S, event_id="",
                                       limit=reservations.MAX_LISTED + 1)
    with pytest.raises(d.NotFound):  # as everywhere: an id that cannot exist names nothing
        service.list_idle_reservations(pipeline, idle_s=IDLE_S, event_id="not-a-uuid", limit=0)
    assert service.get_photo(owner, photo.id).status == "pending"
