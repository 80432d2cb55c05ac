"""Face search in the photo sidecar on the real PostgreSQL and Redis: IndexFaces is idempotent,
SearchFaces ranks, pages and keeps to what the caller may see, the in-memory matrix follows
writes (its own and another instance's), and the opt-out rule holds. Embeddings are synthetic
here (people are random directions in 512-D); the real models run in the e2e test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import numpy as np
import pytest
import redis
from photostack.db import Database
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo.v1 import photo_pb2_grpc as pb_grpc

from infra.db.migrate import migrate
from sidecar import domain as d
from sidecar import face_domain as f
from sidecar.cache import PhotoCache
from sidecar.face_service import FaceService
from sidecar.repository import Repository
from sidecar.service import PhotoService
from tests.identity import bearer, secure_channel
from tests.identity import person as signed_in
from tests.made_events import remove_events_of
from tests.sidecar_process import SidecarProcess

pytestmark = pytest.mark.integration

PIPELINE = d.Caller("service:faces", "service")
CUSTOMER = d.Caller("customer-faces-test", "customer")
# Unseeded: faces of earlier runs stay in the database, and a repeated "person" would match them.
RNG = np.random.default_rng()


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def person() -> np.ndarray:
    return unit(RNG.standard_normal(512))


def face_of(who: np.ndarray, noise: float = 0.9) -> f.NewFace:
    """Another photo of the same person: cosine similarity about 0.6-0.75 with `who`."""
    return f.NewFace(box=(10.0, 10.0, 60.0, 70.0), score=0.9,
                     embedding=unit(who + noise * unit(RNG.standard_normal(512))))


@pytest.fixture(scope="module")
def photos_db(database_url: str) -> Iterator[Database]:
    migrate(database_url, ["photos"])
    db = Database(database_url, schema="photos", maxconn=4)
    yield db
    db.close()


@pytest.fixture
def photos(photos_db: Database, redis_client: redis.Redis) -> PhotoService:
    return PhotoService(Repository(photos_db), PhotoCache(redis_client, ttl_s=60))


@pytest.fixture
def faces(photos_db: Database, redis_client: redis.Redis, photos: PhotoService) -> FaceService:
    return FaceService(Repository(photos_db), PhotoCache(redis_client, ttl_s=60), photos)


@pytest.fixture
def owner(database_url: str) -> Iterator[d.Caller]:
    """A photographer of this test only: their events leave the database when it ends (their
    photos are ready with no object in S3, which make up's storage check would take for lost)."""
    caller = d.Caller(f"photographer-{uuid.uuid4().hex[:8]}", "photographer")
    yield caller
    remove_events_of(database_url, caller.user_id)


def new_event(photos: PhotoService, owner: d.Caller, visibility: str = "public") -> d.Event:
    return photos.create_event(owner, d.NewEvent("Faces", "2025-06-01", "Annecy", visibility))


def ready_photo(photos: PhotoService, owner: d.Caller, event: d.Event) -> d.Photo:
    photo = photos.reserve_photo(owner, event.id, "image/jpeg", 1000)
    web = d.Derivative("web_jpg", f"derivatives/{event.id}/{photo.id}/web.jpg", 100, 80, 1234, "image/jpeg")
    thumb = d.Derivative("thumb_jpg", f"derivatives/{event.id}/{photo.id}/thumb.jpg", 32, 26, 300,
                         "image/jpeg")
    return photos.register_derivatives(PIPELINE, photo.id, d.Processed(
        derivatives=(web, thumb), width=100, height=80, original_bytes=1000, sha256="ab" * 32))


def query(who: np.ndarray) -> bytes:
    return f.encode_embedding(face_of(who).embedding)


def search(faces: FaceService, caller: d.Caller, event: d.Event, who: np.ndarray) -> list[str]:
    page = faces.search_faces(caller, event.id, query(who), threshold=0, limit=0, cursor="")
    return [m.photo.id for m in page.items]


def test_index_faces_replaces_a_photos_faces_and_records_no_face(
        faces: FaceService, photos: PhotoService, owner: d.Caller, photos_db: Database) -> None:
    event = new_event(photos, owner)
    photo = ready_photo(photos, owner, event)
    assert photo.faces_indexed_at is None and photo.face_count is None
    alice, bob = person(), person()

    first = faces.index_faces(PIPELINE, photo.id, [face_of(alice), face_of(bob)])
    again = faces.index_faces(PIPELINE, photo.id, [face_of(alice), face_of(bob)])
    assert (first.face_count, again.face_count) == (2, 2)
    with photos_db.cursor() as cur:
        cur.execute("SELECT count(*) AS n FROM faces WHERE photo_id = %s", (photo.id,))
        assert cur.fetchone()["n"] == 2  # replaced, not added
    assert search(faces, owner, event, alice) == [photo.id]

    faces.index_faces(PIPELINE, photo.id, [face_of(bob)])
    assert search(faces, owner, event, alice) == []
    assert search(faces, owner, event, bob) == [photo.id]

    empty = faces.index_faces(PIPELINE, photo.id, [])
    stored = photos.get_photo(owner, photo.id)
    assert empty.face_count == 0 and stored.face_count == 0 and stored.faces_indexed_at is not None
    assert search(faces, owner, event, bob) == []


def test_index_faces_is_for_the_pipeline_and_for_ready_photos(
        faces: FaceService, photos: PhotoService, owner: d.Caller) -> None:
    event = new_event(photos, owner)
    photo = ready_photo(photos, owner, event)
    with pytest.raises(d.PermissionDenied):
        faces.index_faces(owner, photo.id, [face_of(person())])
    pending = photos.reserve_photo(owner, event.id, "image/jpeg", 1000)
    with pytest.raises(d.FailedPrecondition):
        faces.index_faces(PIPELINE, pending.id, [face_of(person())])
    with pytest.raises(d.NotFound):
        faces.index_faces(PIPELINE, str(uuid.uuid4()), [])
    with pytest.raises(d.InvalidArgument):
        faces.index_faces(PIPELINE, photo.id, [face_of(person())] * (f.MAX_FACES_PER_PHOTO + 1))


def test_search_ranks_pages_and_finds_nobody_for_a_stranger(
        faces: FaceService, photos: PhotoService, owner: d.Caller) -> None:
    event = new_event(photos, owner)
    alice, bob = person(), person()
    close = ready_photo(photos, owner, event)
    group = ready_photo(photos, owner, event)
    other = ready_photo(photos, owner, event)
    faces.index_faces(PIPELINE, close.id, [face_of(alice, noise=0.3)])
    faces.index_faces(PIPELINE, group.id, [face_of(bob), face_of(alice, noise=1.0)])
    faces.index_faces(PIPELINE, other.id, [face_of(bob)])

    page = faces.search_faces(CUSTOMER, event.id, f.encode_embedding(alice), threshold=0, limit=0, cursor="")
    assert [m.photo.id for m in page.items] == [close.id, group.id]
    assert page.items[0].score > page.items[1].score >= 0.35 and page.next_cursor == ""

    first = faces.search_faces(CUSTOMER, event.id, f.encode_embedding(alice), threshold=0, limit=1, cursor="")
    second = faces.search_faces(CUSTOMER, event.id, f.encode_embedding(alice), threshold=0, limit=1,
                                cursor=first.next_cursor)
    assert [m.photo.id for m in first.items + second.items] == [close.id, group.id]
    assert second.next_cursor == ""

    assert search(faces, CUSTOMER, event, person()) == []  # not in the event: nothing, not a wrong match
    with pytest.raises(d.InvalidArgument):
        faces.search_faces(CUSTOMER, event.id, b"\0" * 100, threshold=0, limit=0, cursor="")
    with pytest.raises(d.InvalidArgument):
        faces.search_faces(CUSTOMER, event.id, query(alice), threshold=0.1, limit=0, cursor="")
    with pytest.raises(d.InvalidArgument):
        faces.search_faces(CUSTOMER, event.id, query(alice), threshold=0, limit=0, cursor="garbage")


def test_search_keeps_to_what_the_caller_may_see(
        faces: FaceService, photos: PhotoService, owner: d.Caller) -> None:
    alice = person()
    hidden_event = new_event(photos, owner, "private")
    photo = ready_photo(photos, owner, hidden_event)
    faces.index_faces(PIPELINE, photo.id, [face_of(alice)])
    with pytest.raises(d.NotFound):
        search(faces, CUSTOMER, hidden_event, alice)
    assert search(faces, owner, hidden_event, alice) == [photo.id]

    event = new_event(photos, owner)
    public, private, deleted = (ready_photo(photos, owner, event) for _ in range(3))
    for p in (public, private, deleted):
        faces.index_faces(PIPELINE, p.id, [face_of(alice)])
    photos.update_photo(owner, private.id, d.PhotoChange(visibility="private"))
    photos.delete_photo(owner, deleted.id)
    assert search(faces, CUSTOMER, event, alice) == [public.id]
    assert set(search(faces, owner, event, alice)) == {public.id, private.id}


def test_the_matrix_follows_writes_here_and_on_another_instance(
        faces: FaceService, photos_db: Database, redis_client: redis.Redis, photos: PhotoService,
        owner: d.Caller) -> None:
    other_instance = FaceService(Repository(photos_db), PhotoCache(redis_client, ttl_s=60), photos)
    event = new_event(photos, owner)
    alice = person()
    first = ready_photo(photos, owner, event)
    faces.index_faces(PIPELINE, first.id, [face_of(alice)])
    assert search(faces, CUSTOMER, event, alice) == [first.id]
    assert faces.index.loads == 1

    second = ready_photo(photos, owner, event)
    faces.index_faces(PIPELINE, second.id, [face_of(alice)])  # applied in place: no reload
    assert set(search(faces, CUSTOMER, event, alice)) == {first.id, second.id}
    assert faces.index.loads == 1

    assert set(search(other_instance, CUSTOMER, event, alice)) == {first.id, second.id}
    third = ready_photo(photos, owner, event)
    other_instance.index_faces(PIPELINE, third.id, [face_of(alice)])
    assert set(search(faces, CUSTOMER, event, alice)) == {first.id, second.id, third.id}
    assert faces.index.loads == 2  # the version moved under it: loaded again


def customer() -> d.Caller:
    return d.Caller(f"customer-{uuid.uuid4().hex[:8]}", "customer")


def opt_out_revision(photos_db: Database) -> int:
    with photos_db.cursor() as cur:
        cur.execute("SELECT revision FROM face_opt_out_revision")
        return int(cur.fetchone()["revision"])


def test_an_opt_out_with_someone_elses_face_hides_them_from_everyone_and_grants_nobody_matches(
        faces: FaceService, photos: PhotoService, owner: d.Caller) -> None:
    abuser, victim_account = customer(), customer()
    victim, bob = person(), person()
    event = new_event(photos, owner)
    alone = ready_photo(photos, owner, event)
    together = ready_photo(photos, owner, event)
    faces.index_faces(PIPELINE, alone.id, [face_of(victim)])
    faces.index_faces(PIPELINE, together.id, [face_of(victim), face_of(bob)])
    assert set(search(faces, CUSTOMER, event, victim)) == {alone.id, together.id}

    with pytest.raises(d.InvalidArgument):
        faces.set_face_indexing(abuser, enabled=False, reference=b"")
    with pytest.raises(d.PermissionDenied):
        faces.set_face_indexing(PIPELINE, enabled=False, reference=query(victim))
    try:
        state = faces.set_face_indexing(abuser, enabled=False, reference=query(victim))  # not their face
        assert not state.enabled and state.changed
        for who in (CUSTOMER, victim_account, abuser, owner):  # the opter gets no exclusive match
            assert search(faces, who, event, victim) == []
        assert search(faces, CUSTOMER, event, bob) == [together.id]  # still found through Bob

        later = ready_photo(photos, owner, event)
        faces.index_faces(PIPELINE, later.id, [face_of(victim)])  # indexed after the opt-out
        for who in (CUSTOMER, abuser):
            assert search(faces, who, event, victim) == []
        other_event = new_event(photos, owner)  # another event, first searched after the opt-out
        elsewhere = ready_photo(photos, owner, other_event)
        faces.index_faces(PIPELINE, elsewhere.id, [face_of(victim)])
        assert search(faces, abuser, other_event, victim) == []
    finally:
        back = faces.set_face_indexing(abuser, enabled=True, reference=b"")
    assert back.enabled and back.changed
    assert set(search(faces, CUSTOMER, event, victim)) == {alone.id, together.id, later.id}


def test_the_opt_out_request_reads_no_face_and_takes_effect_at_the_next_search(
        faces: FaceService, photos: PhotoService, owner: d.Caller, database_url: str) -> None:
    """The old opt-out relabelled every matching face inside the request (a scan of all faces).
    Now it must not touch the faces table at all: with that table locked by another session it
    still returns at once."""
    import concurrent.futures

    import psycopg2

    alice, her = person(), customer()
    event = new_event(photos, owner)
    photo = ready_photo(photos, owner, event)
    faces.index_faces(PIPELINE, photo.id, [face_of(alice)])
    assert search(faces, CUSTOMER, event, alice) == [photo.id]

    blocker = psycopg2.connect(database_url)
    try:
        with blocker.cursor() as cur:
            cur.execute("SET lock_timeout = '5s'")
            cur.execute("LOCK TABLE photos.faces IN ACCESS EXCLUSIVE MODE")
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pending = pool.submit(faces.set_face_indexing, her, enabled=False, reference=query(alice))
            try:
                state = pending.result(timeout=3)
            finally:
                blocker.rollback()  # let the old code's scan finish before the test fails
        assert not state.enabled
        assert search(faces, CUSTOMER, event, alice) == []
        assert search(faces, her, event, alice) == []
    finally:
        blocker.rollback()
        blocker.close()
        faces.set_face_indexing(her, enabled=True, reference=b"")


def test_repeating_an_opt_out_does_nothing_twice(
        faces: FaceService, photos: PhotoService, owner: d.Caller, photos_db: Database,
        redis_client: redis.Redis) -> None:
    alice, her = person(), customer()
    event = new_event(photos, owner)
    photo = ready_photo(photos, owner, event)
    faces.index_faces(PIPELINE, photo.id, [face_of(alice)])
    reference = query(alice)
    try:
        assert faces.set_face_indexing(her, enabled=False, reference=reference).changed
        assert search(faces, CUSTOMER, event, alice) == []
        loads, applied, revision = faces.index.loads, faces.index.applied, opt_out_revision(photos_db)

        again = faces.set_face_indexing(her, enabled=False, reference=reference)  # a retried request
        assert not again.enabled and not again.changed
        for _ in range(3):
            assert search(faces, CUSTOMER, event, alice) == []
        # Nothing written, no event reloaded, the reference not applied to the matrix again.
        assert opt_out_revision(photos_db) == revision
        assert (faces.index.loads, faces.index.applied) == (loads, applied)

        other_instance = FaceService(Repository(photos_db), PhotoCache(redis_client, ttl_s=60), photos)
        for _ in range(2):
            assert search(other_instance, CUSTOMER, event, alice) == []
        assert other_instance.index.applied == applied  # once per instance and event
    finally:
        assert faces.set_face_indexing(her, enabled=True, reference=b"").changed
    assert not faces.set_face_indexing(her, enabled=True, reference=b"").changed  # opting in twice
    assert search(faces, CUSTOMER, event, alice) == [photo.id]


@pytest.fixture(scope="module")
def stubs(photos_db: Database) -> Iterator[tuple[pb_grpc.PhotoServiceStub, pb_grpc.PhotoServiceStub]]:
    """(as the face-index function, as the photos API): each with its own Connect identity."""
    proc = SidecarProcess().start()
    with secure_channel(proc, "photostack-faces") as indexer, \
            secure_channel(proc, "photostack-photos") as api:
        yield pb_grpc.PhotoServiceStub(indexer), pb_grpc.PhotoServiceStub(api)
    proc.stop()


def test_over_grpc(stubs: tuple[pb_grpc.PhotoServiceStub, pb_grpc.PhotoServiceStub], photos: PhotoService,
                   owner: d.Caller) -> None:
    indexer, api = stubs
    event = new_event(photos, owner)
    photo = ready_photo(photos, owner, event)
    alice = person()
    customer = bearer(signed_in("someone", "customer"))
    face = face_of(alice)
    done = indexer.IndexFaces(pb.IndexFacesRequest(photo_id=photo.id, faces=[
        pb.Face(x1=1, y1=2, x2=30, y2=40, score=0.9, embedding=f.encode_embedding(face.embedding))]))
    assert done.face_count == 1 and done.HasField("faces_indexed_at")
    got = api.GetPhoto(pb.GetPhotoRequest(photo_id=photo.id), metadata=customer)
    assert got.face_count == 1 and got.HasField("faces_indexed_at")

    found = api.SearchFaces(pb.SearchFacesRequest(event_id=event.id, embedding=query(alice)),
                            metadata=customer)
    assert [m.photo.id for m in found.matches] == [photo.id] and found.matches[0].score > 0.35
    assert "thumb_jpg" in {x.kind for x in found.matches[0].photo.derivatives}  # what a match shows

    with pytest.raises(grpc.RpcError) as bad:
        api.SearchFaces(pb.SearchFacesRequest(event_id=event.id, embedding=b"x"), metadata=customer)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as bad:
        indexer.IndexFaces(pb.IndexFacesRequest(photo_id=photo.id, faces=[
            pb.Face(x1=5, y1=2, x2=1, y2=40, score=0.9, embedding=f.encode_embedding(face.embedding))]))
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as bad:
        api.SearchFaces(pb.SearchFacesRequest(event_id=str(uuid.uuid4()), embedding=query(alice)),
                        metadata=customer)
    assert bad.value.code() == grpc.StatusCode.NOT_FOUND
