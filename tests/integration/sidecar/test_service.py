"""Photo use cases on the real PostgreSQL and Redis: ownership, state, idempotency, cache, pages."""

from __future__ import annotations

import threading
import uuid

import psycopg2.errors
import pytest
import redis
from photostack.db import Database
from redis.backoff import NoBackoff
from redis.retry import Retry

from sidecar import domain as d
from sidecar.cache import PhotoCache
from sidecar.repository import Repository
from sidecar.service import PhotoService

pytestmark = pytest.mark.integration

STRANGER = d.Caller("stranger", "customer")
HASH = "ab" * 32


def processed(photo_id: str, kinds: tuple[str, ...] = ("thumb", "web"), sha: str = HASH) -> d.Processed:
    return d.Processed(
        derivatives=tuple(d.Derivative(k, f"{k}/{photo_id}.jpg", 100, 80, 1234, "image/jpeg") for k in kinds),
        width=4000,
        height=3000,
        original_bytes=5_000_000,
        sha256=sha,
        camera="X-T5",
    )


def test_reserve_only_into_own_event(service: PhotoService, owner: d.Caller, event: d.Event) -> None:
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    assert photo.status == "pending"
    assert photo.original_key == f"originals/{event.id}/{photo.id}"
    other = d.Caller("other-photographer", "photographer")
    with pytest.raises(d.PermissionDenied):
        service.reserve_photo(other, event.id, "image/jpeg", 1000)
    with pytest.raises(d.InvalidArgument):
        service.reserve_photo(owner, event.id, "image/gif", 1000)
    with pytest.raises(d.NotFound):
        service.reserve_photo(owner, str(uuid.uuid4()), "image/jpeg", 1000)


def test_idempotency_keys(service: PhotoService, owner: d.Caller, event: d.Event) -> None:
    first = service.reserve_photo(owner, event.id, "image/jpeg", 1000, "key-1")
    assert service.reserve_photo(owner, event.id, "image/jpeg", 1000, "key-1").id == first.id
    with pytest.raises(d.AlreadyExists):
        service.reserve_photo(owner, event.id, "image/png", 1000, "key-1")
    new = d.NewEvent("Gala", "2025-06-02", "", "private", "ev-key")
    assert service.create_event(owner, new).id == service.create_event(owner, new).id
    with pytest.raises(d.AlreadyExists):
        service.create_event(owner, d.NewEvent("Other", "2025-06-02", "", "private", "ev-key"))


def test_register_is_idempotent_and_gated(
    service: PhotoService, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    with pytest.raises(d.PermissionDenied):
        service.register_derivatives(owner, photo.id, processed(photo.id))
    ready = service.register_derivatives(pipeline, photo.id, processed(photo.id))
    assert ready.status == "ready" and {x.kind for x in ready.derivatives} == {"thumb", "web"}
    again = service.register_derivatives(pipeline, photo.id, processed(photo.id))
    assert again == ready
    with pytest.raises(d.FailedPrecondition):
        service.register_derivatives(pipeline, photo.id, processed(photo.id, sha="cd" * 32))
    with pytest.raises(d.FailedPrecondition):
        service.mark_failed(pipeline, photo.id, "too late")


def test_register_is_all_or_nothing(
    service: PhotoService, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    good = d.Derivative("thumb", "thumb/x.jpg", 10, 10, 10, "image/jpeg")
    overflow = d.Derivative("web", "web/x.jpg", 10, 10, 2**63, "image/jpeg")  # fails in the 2nd INSERT
    with pytest.raises(psycopg2.errors.NumericValueOutOfRange):
        service.register_derivatives(pipeline, photo.id, d.Processed((good, overflow), 10, 10, 10, HASH))
    after = service.get_photo(owner, photo.id)
    assert after.status == "pending" and after.derivatives == ()


def test_failed_photos(service: PhotoService, owner: d.Caller, pipeline: d.Caller, event: d.Event) -> None:
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    failed = service.mark_failed(pipeline, photo.id, "not an image")
    assert (failed.status, failed.failure_reason) == ("failed", "not an image")
    assert service.mark_failed(pipeline, photo.id, "again").failure_reason == "not an image"
    with pytest.raises(d.FailedPrecondition):
        service.register_derivatives(pipeline, photo.id, processed(photo.id))


def test_ownership_on_reads_and_writes(
    service: PhotoService, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    with pytest.raises(d.NotFound):  # pending: invisible to others
        service.get_photo(STRANGER, photo.id)
    service.register_derivatives(pipeline, photo.id, processed(photo.id))
    assert service.get_photo(STRANGER, photo.id).id == photo.id
    with pytest.raises(d.PermissionDenied):
        service.update_photo(STRANGER, photo.id, d.PhotoChange(price_minor=1, currency="EUR"))
    with pytest.raises(d.PermissionDenied):
        service.delete_photo(d.Caller("other", "photographer"), photo.id)
    service.update_photo(owner, photo.id, d.PhotoChange(visibility="private"))
    with pytest.raises(d.NotFound):
        service.get_photo(STRANGER, photo.id)
    with pytest.raises(d.NotFound):
        service.update_photo(STRANGER, photo.id, d.PhotoChange(visibility="public"))
    gone = service.delete_photo(owner, photo.id)
    assert gone.original_key == photo.original_key
    with pytest.raises(d.NotFound):
        service.get_photo(owner, photo.id)


def test_private_events_are_hidden(service: PhotoService, owner: d.Caller) -> None:
    private = service.create_event(owner, d.NewEvent("Private", "2025-06-03", "", "private"))
    with pytest.raises(d.NotFound):
        service.get_event(STRANGER, private.id)
    with pytest.raises(d.NotFound):
        service.list_event_photos(STRANGER, private.id, limit=10, cursor="")
    mine = service.list_events(owner, mine_only=True, limit=100, cursor="")
    assert private.id in [e.id for e in mine.items]
    seen: list[str] = []
    cursor = ""
    while True:
        page = service.list_events(STRANGER, mine_only=False, limit=100, cursor=cursor)
        seen += [e.id for e in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert private.id not in seen


def test_cache_is_coherent_after_writes(
    service: PhotoService, cache: PhotoCache, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    service.register_derivatives(pipeline, photo.id, processed(photo.id))
    # Warm both caches, then write: the next reads must see the write.
    assert service.get_photo(STRANGER, photo.id).price_minor == 0
    assert [p.id for p in service.list_event_photos(STRANGER, event.id, limit=10, cursor="").items] == [
        photo.id
    ]
    service.update_photo(owner, photo.id, d.PhotoChange(price_minor=990, currency="EUR"))
    assert service.get_photo(STRANGER, photo.id).price_minor == 990
    assert service.list_event_photos(STRANGER, event.id, limit=10, cursor="").items[0].price_minor == 990
    second = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    assert len(service.list_event_photos(owner, event.id, limit=10, cursor="").items) == 2
    service.register_derivatives(pipeline, second.id, processed(second.id))
    assert len(service.list_event_photos(STRANGER, event.id, limit=10, cursor="").items) == 2
    service.delete_photo(owner, photo.id)
    assert [p.id for p in service.list_event_photos(STRANGER, event.id, limit=10, cursor="").items] == [
        second.id
    ]
    with pytest.raises(d.NotFound):
        service.get_photo(STRANGER, photo.id)


def test_cache_hits_come_from_redis(
    service: PhotoService,
    cache: PhotoCache,
    cache_redis,
    owner: d.Caller,  # type: ignore[no-untyped-def]
    event: d.Event,
) -> None:
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    service.get_photo(owner, photo.id)
    assert cache_redis.hget(f"ps:photo:{photo.id}", "data") is not None
    calls = []
    assert cache.photo(photo.id, lambda: calls.append(1)) is not None  # type: ignore[func-returns-value]
    assert calls == []


def test_a_fill_that_raced_a_write_is_dropped(
    cache: PhotoCache,
    cache_redis,
    service: PhotoService,  # type: ignore[no-untyped-def]
    owner: d.Caller,
    event: d.Event,
) -> None:
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    stale = service.get_photo(owner, photo.id)
    cache_redis.delete(f"ps:photo:{photo.id}")

    def load_then_race() -> d.Photo:
        # The write lands between the reader's database read and its cache fill.
        cache.photo_changed(photo.id, event.id)
        return stale

    cache.photo(photo.id, load_then_race)
    assert cache_redis.hget(f"ps:photo:{photo.id}", "data") is None


def test_pagination_is_stable_under_concurrent_inserts(
    service: PhotoService, owner: d.Caller, event: d.Event
) -> None:
    before = [service.reserve_photo(owner, event.id, "image/jpeg", 1000).id for _ in range(25)]
    stop = threading.Event()
    inserted: list[str] = []

    def writer() -> None:
        while not stop.is_set() and len(inserted) < 40:
            inserted.append(service.reserve_photo(owner, event.id, "image/jpeg", 1000).id)

    thread = threading.Thread(target=writer)
    thread.start()
    seen: list[str] = []
    cursor = ""
    try:
        while True:
            page = service.list_event_photos(owner, event.id, limit=4, cursor=cursor)
            seen += [p.id for p in page.items]
            cursor = page.next_cursor
            if not cursor:
                break
    finally:
        stop.set()
        thread.join()
    assert len(seen) == len(set(seen)), "a photo appeared on two pages"
    assert set(before) <= set(seen), "a photo that existed before paging started was skipped"
    assert seen[: len(before)] == before


def test_remembered_page_views_follow_every_write(
    service: PhotoService, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    """The page's decoded photos and their views are remembered per cached value
    (sidecar/memo.py): an unchanged page gives the same objects back, and every write that
    changes what a viewer may see is seen by the next call."""
    photos = [service.reserve_photo(owner, event.id, "image/jpeg", 1000) for _ in range(3)]
    for p in photos:
        service.register_derivatives(pipeline, p.id, processed(p.id, kinds=("thumb", "preview", "web")))
    service.list_event_photos(STRANGER, event.id, limit=10, cursor="")  # a miss: fills Redis
    first = service.list_event_photos(STRANGER, event.id, limit=10, cursor="")
    again = service.list_event_photos(STRANGER, event.id, limit=10, cursor="")
    assert {p.id for p in again.items} == {p.id for p in photos}
    assert all(a is b for a, b in zip(first.items, again.items, strict=True))  # remembered
    # The paywall holds for the remembered views: a stranger gets the free kinds only.
    assert all(not p.full_access and p.original_key == "" and
               {x.kind for x in p.derivatives} == {"thumb", "preview"} for p in again.items)
    # The owner's view of the same photos is full, never the stranger's remembered one.
    mine = service.list_event_photos(owner, event.id, limit=10, cursor="")
    assert all(p.full_access and p.original_key for p in mine.items)
    hidden, deleted, kept = photos
    service.update_photo(owner, hidden.id, d.PhotoChange(visibility="private"))
    assert {p.id for p in service.list_event_photos(STRANGER, event.id, limit=10, cursor="").items} == {
        deleted.id, kept.id}
    service.delete_photo(owner, deleted.id)
    left = service.list_event_photos(STRANGER, event.id, limit=10, cursor="")
    assert [p.id for p in left.items] == [kept.id]
    service.update_photo(owner, kept.id, d.PhotoChange(price_minor=500, currency="EUR"))
    (priced,) = service.list_event_photos(STRANGER, event.id, limit=10, cursor="").items
    assert priced.price_minor == 500 and not priced.full_access


def test_the_page_is_answered_from_postgres_while_redis_is_unreachable(
    photos_db: Database, service: PhotoService, owner: d.Caller, pipeline: d.Caller, event: d.Event
) -> None:
    """The page's one read of the event's cache entry (PhotoCache.look) failing is a miss."""
    photo = service.reserve_photo(owner, event.id, "image/jpeg", 1000)
    service.register_derivatives(pipeline, photo.id, processed(photo.id))
    nowhere = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    offline = PhotoService(Repository(photos_db), PhotoCache(nowhere))
    for caller in (STRANGER, owner):
        page = offline.list_event_photos(caller, event.id, limit=10, cursor="")
        assert [p.id for p in page.items] == [photo.id]
    with pytest.raises(d.NotFound):
        offline.list_event_photos(STRANGER, str(uuid.uuid4()), limit=10, cursor="")
