"""The face-index use case and the photos API's face routes, in-process, on the real models, a
real photo sidecar (subprocess, real PostgreSQL and Redis) and the evaluation images.

Indexing: faces stored, a photo without a face recorded as such, redelivery skipped, a deleted
photo skipped. Search route: finds the person, every bad input is a clear 4xx, and a burst past
the per-account limit is a 429. Opt-out route: nobody finds the face given any more, the opter
included (so an opt-out with someone else's face gains nothing)."""

from __future__ import annotations

import base64
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from chalice.test import Client
from facerec.models import FaceModels
from faces.indexing import BadNotice, FaceIndexer
from photostack.db import Database
from photostack.photo_client import PhotoClient
from photostack.tokens import issue_access_token
from PIL import Image

from infra.db.migrate import migrate
from sidecar import domain as d
from sidecar.cache import PhotoCache
from sidecar.repository import Repository
from sidecar.service import PhotoService
from tests.apps import load_app
from tests.index_function import index_function_client
from tests.made_events import remove_events_of
from tests.sidecar_process import SidecarProcess

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "faces"
PIPELINE = d.Caller("service:upload", "service")


def image(name: str) -> bytes:
    return (DATA / name).read_bytes()


def blank_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 140, 200)).save(out, "JPEG")
    return out.getvalue()


class MemoryDerivatives:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def read(self, key: str) -> bytes | None:
        return self.objects.get(key)


@pytest.fixture(scope="module")
def sidecar(database_url: str) -> Iterator[SidecarProcess]:
    migrate(database_url, ["photos"])
    proc = SidecarProcess().start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def photos(database_url: str, redis_client: redis.Redis) -> Iterator[PhotoService]:
    db = Database(database_url, schema="photos", maxconn=2)
    yield PhotoService(Repository(db), PhotoCache(redis_client, ttl_s=60))
    db.close()


@pytest.fixture
def client(sidecar: SidecarProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[PhotoClient]:
    yield from index_function_client(sidecar, monkeypatch)


@pytest.fixture
def owner(database_url: str) -> Iterator[d.Caller]:
    """A photographer of this test only: their events leave the database when it ends (their
    photos are ready with no object in S3, which make up's storage check would take for lost)."""
    caller = d.Caller(f"photographer-{uuid.uuid4().hex[:8]}", "photographer")
    yield caller
    remove_events_of(database_url, caller.user_id)


def ready_photo(photos: PhotoService, owner: d.Caller, event: d.Event, store: MemoryDerivatives,
                data: bytes) -> str:
    photo = photos.reserve_photo(owner, event.id, "image/jpeg", len(data))
    key = f"derivatives/{event.id}/{photo.id}/web.jpg"
    store.objects[key] = data
    thumb = d.Derivative("thumb_jpg", f"derivatives/{event.id}/{photo.id}/thumb.jpg", 32, 32, 100,
                         "image/jpeg")
    photos.register_derivatives(PIPELINE, photo.id, d.Processed(
        derivatives=(d.Derivative("web_jpg", key, 100, 80, len(data), "image/jpeg"), thumb),
        width=100, height=80, original_bytes=len(data), sha256="cd" * 32))
    return photo.id


def test_indexing_stores_faces_once_and_records_photos_without_any(
        client: PhotoClient, photos: PhotoService, owner: d.Caller, face_models: FaceModels) -> None:
    store = MemoryDerivatives()
    indexer = FaceIndexer(client, store, face_models)
    event = photos.create_event(owner, d.NewEvent("Indexing", "2025-06-01", "", "public"))
    crop = ready_photo(photos, owner, event, store, image("people/amy/amy2.png"))
    group = ready_photo(photos, owner, event, store, image("groups/bbt1.jpg"))
    blank = ready_photo(photos, owner, event, store, blank_jpeg())
    broken = ready_photo(photos, owner, event, store, b"\xff\xd8 not really a jpeg")

    every = (crop, group, blank, broken)
    outcomes = {p: indexer.index({"photo_id": p, "event_id": event.id}) for p in every}
    assert {p: o.status for p, o in outcomes.items()} == dict.fromkeys(every, "indexed")
    assert outcomes[crop].faces == 1 and outcomes[group].faces >= 2
    assert outcomes[blank].faces == 0 and outcomes[broken].faces == 0
    assert photos.get_photo(owner, blank).faces_indexed_at is not None

    again = indexer.index({"photo_id": group, "event_id": event.id})
    assert (again.status, again.reason, again.faces) == ("skipped", "already indexed", outcomes[group].faces)

    gone = ready_photo(photos, owner, event, store, image("people/raj/raj2.png"))
    photos.delete_photo(owner, gone)
    assert indexer.index({"photo_id": gone}).status == "skipped"
    with pytest.raises(BadNotice):
        indexer.index({"event_id": event.id})


@pytest.fixture
def api(client: PhotoClient) -> Iterator[Any]:
    with Client(load_app("photos")) as chalice:
        def call(method: str, path: str, body: Any, user: tuple[str, str]) -> tuple[int, Any]:
            headers = {"Content-Type": "application/json",
                       "Authorization": "Bearer " + issue_access_token(*user)[0]}
            raw = body if isinstance(body, str) else json.dumps(body)
            r = getattr(chalice.http, method)(path, headers=headers, body=raw)
            return r.status_code, json.loads(r.body) if r.body else None
        yield call


def selfie(data: bytes) -> dict[str, str]:
    return {"image_base64": base64.b64encode(data).decode()}


def test_search_route_finds_the_person_and_refuses_bad_input(
        api: Any, client: PhotoClient, photos: PhotoService, owner: d.Caller,
        face_models: FaceModels) -> None:
    store = MemoryDerivatives()
    indexer = FaceIndexer(client, store, face_models)
    event = photos.create_event(owner, d.NewEvent("Route", "2025-06-01", "", "public"))
    amy = [ready_photo(photos, owner, event, store, image(f"people/amy/amy{k}.png")) for k in (2, 3)]
    raj = ready_photo(photos, owner, event, store, image("people/raj/raj2.png"))
    for p in [*amy, raj]:
        indexer.index({"photo_id": p})
    customer = (f"customer-{uuid.uuid4().hex[:8]}", "customer")
    path = f"/events/{event.id}/face-search"

    status, body = api("post", path, selfie(image("people/amy/amy1.png")), customer)
    assert status == 200, body
    assert {m["photo_id"] for m in body["matches"]} == set(amy) and body["next_cursor"] is None
    assert all(m["score"] >= 0.35 and m["thumb_url"] for m in body["matches"])
    status, first = api("post", path + "?limit=1", selfie(image("people/amy/amy1.png")), customer)
    assert status == 200 and len(first["matches"]) == 1 and first["next_cursor"]

    status, body = api("post", path, selfie(image("people/sheldon/sheldon1.png")), customer)
    assert (status, body["matches"]) == (200, [])  # not in the event: nothing, not a wrong match

    def error(body: Any) -> tuple[int, str]:
        status, answer = api("post", path, body, customer)
        return status, answer["error"]["code"]

    assert error(selfie(blank_jpeg())) == (422, "no_face")
    assert error(selfie(image("groups/bbt1.jpg"))) == (422, "several_faces")
    assert error(selfie(b"GIF89a not a photo")) == (400, "not_an_image")
    huge = io.BytesIO()
    Image.new("L", (8000, 7000)).save(huge, "PNG")  # 56 MP, a few hundred kB
    assert error(selfie(huge.getvalue())) == (413, "image_too_large")
    assert error(selfie(b"x" * (5 * 1024 * 1024 + 1))) == (413, "image_too_large")
    assert error({"image_base64": "%%% not base64"}) == (400, "invalid_image")
    assert error({}) == (400, "invalid_image")
    assert error("not json") == (400, "invalid_json")

    private = photos.create_event(owner, d.NewEvent("Private", "2025-06-01", "", "private"))
    status, body = api("post", f"/events/{private.id}/face-search", selfie(image("people/amy/amy1.png")),
                       customer)
    assert (status, body["error"]["code"]) == (404, "not_found")


@pytest.fixture
def no_stale_opt_outs(database_url: str) -> None:
    """An earlier run that died between opting out and back in leaves a reference behind that
    would withhold this test's faces: clear the test users' (never real users') opt-outs."""
    import psycopg2

    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM photos.face_opt_outs WHERE user_id LIKE 'customer-%'")
        cur.execute("UPDATE photos.face_opt_out_revision SET revision = revision + 1")
    conn.close()


@pytest.mark.usefixtures("no_stale_opt_outs")
def test_opting_out_with_someone_elses_selfie_hides_them_from_everyone_the_opter_included(
        api: Any, client: PhotoClient, photos: PhotoService, owner: d.Caller,
        face_models: FaceModels) -> None:
    store = MemoryDerivatives()
    indexer = FaceIndexer(client, store, face_models)
    event = photos.create_event(owner, d.NewEvent("Opt-out", "2025-06-01", "", "public"))
    penny = ready_photo(photos, owner, event, store, image("people/penny/penny2.png"))
    indexer.index({"photo_id": penny})
    abuser = (f"customer-{uuid.uuid4().hex[:8]}", "customer")  # not Penny
    someone = (f"customer-{uuid.uuid4().hex[:8]}", "customer")
    path = f"/events/{event.id}/face-search"
    query = selfie(image("people/penny/penny1.png"))
    assert [m["photo_id"] for m in api("post", path, query, someone)[1]["matches"]] == [penny]

    status, body = api("put", "/users/me/face-indexing", {"enabled": False}, abuser)
    assert (status, body["error"]["code"]) == (400, "invalid_image")  # a selfie is needed to opt out
    try:
        status, body = api("put", "/users/me/face-indexing", {"enabled": False, **query}, abuser)
        assert status == 200, body
        assert body == {"enabled": False, "reference_stored": True, "notice": body["notice"]}
        assert "not stored" in body["notice"] and "yours included" in body["notice"]
        assert api("post", path, query, someone)[1]["matches"] == []
        assert api("post", path, query, abuser)[1]["matches"] == []  # no exclusive match for the opter
    finally:
        status, body = api("put", "/users/me/face-indexing", {"enabled": True}, abuser)
    assert (status, body["enabled"], body["reference_stored"]) == (200, True, False)
    assert [m["photo_id"] for m in api("post", path, query, someone)[1]["matches"]] == [penny]


def test_a_burst_of_searches_past_the_account_limit_is_refused(
        api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from photos.face_search_limit import reset_face_search_limit

    monkeypatch.setenv("PHOTOSTACK_FACE_SEARCH_PER_ACCOUNT", "3")
    reset_face_search_limit()
    try:
        searcher = (f"customer-{uuid.uuid4().hex[:8]}", "customer")
        path = f"/events/{uuid.uuid4()}/face-search"
        # Bodies that fail fast: the limit counts before the selfie is even decoded.
        statuses = [api("post", path, {}, searcher) for _ in range(5)]
    finally:
        reset_face_search_limit()
    assert [s for s, _ in statuses] == [400, 400, 400, 429, 429]
    assert statuses[3][1]["error"]["code"] == "rate_limited"
    other = (f"customer-{uuid.uuid4().hex[:8]}", "customer")
    assert api("post", path, {}, other)[0] == 400  # another account is not held back
