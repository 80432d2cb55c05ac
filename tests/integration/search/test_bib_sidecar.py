"""Bib numbers in the photo sidecar on the real PostgreSQL: IndexBibs replaces a photo's numbers
and is idempotent, only the pipeline writes and only for ready photos, SearchBibs answers the
event's photos best first, paged, and keeps to what the caller may see (private photos and
events, deleted photos), GetPhotoBibs tells whether a photo was read. Numbers are given here;
the real OCR runs in test_bib_indexing_and_route.py and in the e2e test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from photostack.db import Database

from infra.db.migrate import migrate
from sidecar import bib_domain as b
from sidecar import domain as d
from sidecar.bib_service import BibService
from sidecar.cache import PhotoCache
from sidecar.repository import Repository
from sidecar.service import PhotoService
from tests.made_events import remove_events_of

pytestmark = pytest.mark.integration

PIPELINE = d.Caller("service:faces", "service")
BOX = (10.0, 20.0, 110.0, 70.0)


@pytest.fixture(scope="module")
def photos_db(database_url: str) -> Iterator[Database]:
    migrate(database_url, ["photos", "transactions"])  # the sidecar reads the entitlements view
    db = Database(database_url, schema="photos", maxconn=4)
    yield db
    db.close()


@pytest.fixture
def photos(photos_db: Database, redis_client: redis.Redis) -> PhotoService:
    return PhotoService(Repository(photos_db), PhotoCache(redis_client, ttl_s=60))


@pytest.fixture
def bibs(photos_db: Database, photos: PhotoService) -> BibService:
    return BibService(Repository(photos_db), photos)


@pytest.fixture
def owner(database_url: str) -> Iterator[d.Caller]:
    """A photographer of this test only: their events leave the database when it ends (their
    photos are ready with no object in S3, which make up's storage check would take for lost)."""
    caller = d.Caller(f"photographer-{uuid.uuid4().hex[:8]}", "photographer")
    yield caller
    remove_events_of(database_url, caller.user_id)


@pytest.fixture
def customer() -> d.Caller:
    return d.Caller(f"customer-{uuid.uuid4().hex[:8]}", "customer")


def new_event(photos: PhotoService, owner: d.Caller, visibility: str = "public") -> d.Event:
    return photos.create_event(owner, d.NewEvent("Race", "2025-06-01", "Annecy", visibility))


def ready_photo(photos: PhotoService, owner: d.Caller, event: d.Event) -> d.Photo:
    photo = photos.reserve_photo(owner, event.id, "image/jpeg", 1000)
    web = d.Derivative("web_jpg", f"derivatives/{event.id}/{photo.id}/web.jpg", 100, 80, 1234, "image/jpeg")
    return photos.register_derivatives(PIPELINE, photo.id, d.Processed(
        derivatives=(web,), width=100, height=80, original_bytes=1000, sha256="ab" * 32))


def bib(number: str, confidence: float = 0.9) -> b.NewBib:
    return b.NewBib(number, confidence, BOX)


def found(bibs: BibService, caller: d.Caller, event: d.Event, number: str) -> list[str]:
    return [m.photo.id for m in bibs.search_bibs(caller, event.id, number, limit=0, cursor="").items]


def test_index_bibs_replaces_and_is_idempotent(bibs: BibService, photos: PhotoService, owner: d.Caller,
                                               photos_db: Database) -> None:
    event = new_event(photos, owner)
    photo = ready_photo(photos, owner, event)
    assert bibs.photo_bibs(owner, photo.id).indexed_at is None

    first = bibs.index_bibs(PIPELINE, photo.id, [bib("1234"), bib("77", 0.6), bib("1234", 0.7)])
    again = bibs.index_bibs(PIPELINE, photo.id, [bib("1234"), bib("77", 0.6)])
    assert (first.bib_count, again.bib_count) == (2, 2)  # one row per number, the surest kept
    with photos_db.cursor() as cur:
        cur.execute("SELECT number, confidence FROM photo_bibs WHERE photo_id = %s ORDER BY number",
                    (photo.id,))
        rows = [(r["number"], round(r["confidence"], 2)) for r in cur.fetchall()]
    assert rows == [("1234", 0.9), ("77", 0.6)]
    read = bibs.photo_bibs(owner, photo.id)
    assert read.indexed_at is not None and [x.number for x in read.bibs] == ["1234", "77"]
    assert read.bibs[0].box == BOX
    assert found(bibs, owner, event, "1234") == [photo.id]

    bibs.index_bibs(PIPELINE, photo.id, [bib("88")])
    assert found(bibs, owner, event, "1234") == []
    assert found(bibs, owner, event, "88") == [photo.id]

    empty = bibs.index_bibs(PIPELINE, photo.id, [])
    assert empty.bib_count == 0 and bibs.photo_bibs(owner, photo.id).indexed_at is not None
    assert found(bibs, owner, event, "88") == []


def test_only_the_pipeline_indexes_and_only_ready_photos(bibs: BibService, photos: PhotoService,
                                                         owner: d.Caller) -> None:
    event = new_event(photos, owner)
    photo = ready_photo(photos, owner, event)
    with pytest.raises(d.PermissionDenied):
        bibs.index_bibs(owner, photo.id, [bib("1")])
    pending = photos.reserve_photo(owner, event.id, "image/jpeg", 1000)
    with pytest.raises(d.FailedPrecondition):
        bibs.index_bibs(PIPELINE, pending.id, [bib("1")])
    with pytest.raises(d.NotFound):
        bibs.index_bibs(PIPELINE, str(uuid.uuid4()), [bib("1")])
    with pytest.raises(d.NotFound):
        bibs.index_bibs(PIPELINE, "not-a-uuid", [bib("1")])
    with pytest.raises(d.InvalidArgument):
        bibs.index_bibs(PIPELINE, photo.id, [bib("1")] * (b.MAX_BIBS_PER_PHOTO + 1))


def test_search_ranks_best_first_pages_and_stays_in_the_event(
        bibs: BibService, photos: PhotoService, owner: d.Caller, customer: d.Caller) -> None:
    event, other = new_event(photos, owner), new_event(photos, owner)
    low, high, mid = (ready_photo(photos, owner, event) for _ in range(3))
    elsewhere = ready_photo(photos, owner, other)
    for photo, confidence in ((low, 0.55), (high, 0.98), (mid, 0.8), (elsewhere, 0.99)):
        bibs.index_bibs(PIPELINE, photo.id, [bib("A42", confidence), bib("5", 0.9)])
    assert found(bibs, customer, event, "a42") == [high.id, mid.id, low.id]  # letters: any case

    first = bibs.search_bibs(customer, event.id, "A42", limit=2, cursor="")
    second = bibs.search_bibs(customer, event.id, "A42", limit=2, cursor=first.next_cursor)
    assert [m.photo.id for m in first.items] == [high.id, mid.id] and first.next_cursor
    assert [m.photo.id for m in second.items] == [low.id] and second.next_cursor == ""
    assert first.items[0].bib.confidence == pytest.approx(0.98) and first.items[0].bib.box == BOX
    assert found(bibs, customer, event, "999") == []
    for bad in ("", "12345678", "1 OR 1=1", "AB1"):
        with pytest.raises(d.InvalidArgument):
            bibs.search_bibs(customer, event.id, bad, limit=0, cursor="")
    with pytest.raises(d.InvalidArgument):
        bibs.search_bibs(customer, event.id, "5", limit=101, cursor="")
    with pytest.raises(d.InvalidArgument):
        bibs.search_bibs(customer, event.id, "5", limit=0, cursor="garbage")


def test_search_keeps_to_what_the_caller_may_see(
        bibs: BibService, photos: PhotoService, owner: d.Caller, customer: d.Caller) -> None:
    event = new_event(photos, owner)
    public, hidden, deleted = (ready_photo(photos, owner, event) for _ in range(3))
    for photo in (public, hidden, deleted):
        bibs.index_bibs(PIPELINE, photo.id, [bib("314")])
    photos.update_photo(owner, hidden.id, d.PhotoChange(visibility="private"))
    photos.delete_photo(owner, deleted.id)

    assert set(found(bibs, customer, event, "314")) == {public.id}
    assert set(found(bibs, owner, event, "314")) == {public.id, hidden.id}
    with pytest.raises(d.NotFound):
        bibs.photo_bibs(customer, hidden.id)

    private = new_event(photos, owner, "private")
    secret = ready_photo(photos, owner, private)
    bibs.index_bibs(PIPELINE, secret.id, [bib("314")])
    with pytest.raises(d.NotFound):
        bibs.search_bibs(customer, private.id, "314", limit=0, cursor="")
    assert found(bibs, owner, private, "314") == [secret.id]
    with pytest.raises(d.NotFound):
        bibs.search_bibs(customer, str(uuid.uuid4()), "314", limit=0, cursor="")
