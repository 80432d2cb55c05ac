"""The bib-index step and `GET /events/{id}/photos?bib=` in-process, on the real OCR models, a
real photo sidecar (subprocess, real PostgreSQL and Redis) and generated race photos.

Indexing: the numbers on a photo's bibs are stored, a photo without any recorded as read, a
notice delivered again skipped before any OCR, a deleted photo skipped, an unreadable derivative
recorded as "no number"; the face step runs first and the bib step after it. Route: finds the
photos best first, with where the number was read; every bad value is a clear 400; a private
event is a 404 for a stranger."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from bibocr.models import OcrModels
from chalice.test import Client
from facerec.models import FaceModels
from faces.bibs import BibIndexer
from faces.indexing import FaceIndexer
from photostack.db import Database
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo_client import PhotoClient
from photostack.tokens import issue_access_token

from infra.bib_images import clean_sample
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


class MemoryDerivatives:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.reads = 0

    def read(self, key: str) -> bytes | None:
        self.reads += 1
        return self.objects.get(key)


@pytest.fixture(scope="module")
def sidecar(database_url: str) -> Iterator[SidecarProcess]:
    migrate(database_url, ["photos", "transactions"])  # the sidecar reads the entitlements view
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
    photos.register_derivatives(PIPELINE, photo.id, d.Processed(
        derivatives=(d.Derivative("web_jpg", key, 1600, 1067, len(data), "image/jpeg"),),
        width=1600, height=1067, original_bytes=len(data), sha256="cd" * 32))
    return photo.id


def numbers(client: PhotoClient, photo_id: str) -> list[str]:
    got = client.get_photo_bibs(pb.GetPhotoBibsRequest(photo_id=photo_id))
    return [b.number for b in got.bibs]


def test_the_bib_step_stores_numbers_once_and_records_photos_without_any(
        client: PhotoClient, photos: PhotoService, owner: d.Caller, ocr_models: OcrModels) -> None:
    store = MemoryDerivatives()
    indexer = BibIndexer(client, store, ocr_models)
    event = photos.create_event(owner, d.NewEvent("Bibs", "2026-06-01", "", "public"))
    two = ready_photo(photos, owner, event, store, clean_sample(DATA, ["4821", "B17"], seed=1).jpeg)
    none = ready_photo(photos, owner, event, store, clean_sample(DATA, [], seed=2).jpeg)
    broken = ready_photo(photos, owner, event, store, b"\xff\xd8 not really a jpeg")

    assert indexer.index(two) == 2 and sorted(numbers(client, two)) == ["4821", "B17"]
    assert indexer.index(none) == 0 and indexer.index(broken) == 0
    read_before = store.reads
    assert indexer.index(two) is None  # delivered again: skipped before reading the derivative
    assert store.reads == read_before and sorted(numbers(client, two)) == ["4821", "B17"]

    gone = ready_photo(photos, owner, event, store, clean_sample(DATA, ["77"], seed=3).jpeg)
    photos.delete_photo(owner, gone)
    assert indexer.index(gone) is None
    assert indexer.index(str(uuid.uuid4())) is None


def test_the_face_step_runs_first_and_a_failed_bib_step_is_retried_alone(
        client: PhotoClient, photos: PhotoService, owner: d.Caller, ocr_models: OcrModels,
        face_models: FaceModels, monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryDerivatives()
    event = photos.create_event(owner, d.NewEvent("Both", "2026-06-01", "", "public"))
    photo = ready_photo(photos, owner, event, store, clean_sample(DATA, ["605"], seed=4).jpeg)
    bibs = BibIndexer(client, store, ocr_models)
    indexer = FaceIndexer(client, store, face_models, bibs)

    def unavailable(request: Any) -> Any:
        raise ConnectionError("sidecar went away")

    monkeypatch.setattr(bibs, "photos", type("Flaky", (), {
        "get_photo": client.get_photo, "get_photo_bibs": client.get_photo_bibs,
        "index_bibs": staticmethod(unavailable)})())
    with pytest.raises(ConnectionError):
        indexer.index({"photo_id": photo, "event_id": event.id})
    assert photos.get_photo(owner, photo).faces_indexed_at is not None  # faces were stored first
    assert numbers(client, photo) == []

    monkeypatch.setattr(bibs, "photos", client)  # SQS delivers the notice again
    outcome = indexer.index({"photo_id": photo, "event_id": event.id})
    assert (outcome.status, outcome.reason, outcome.bibs) == ("skipped", "already indexed", 1)
    assert numbers(client, photo) == ["605"]


@pytest.fixture
def api(client: PhotoClient) -> Iterator[Any]:
    with Client(load_app("photos")) as chalice:
        def call(path: str, user: tuple[str, str] | None) -> tuple[int, Any]:
            headers = {"Authorization": "Bearer " + issue_access_token(*user)[0]} if user else {}
            r = chalice.http.get(path, headers=headers)
            return r.status_code, json.loads(r.body) if r.body else None
        yield call


def test_the_bib_filter_finds_photos_best_first_and_refuses_bad_values(
        api: Any, client: PhotoClient, photos: PhotoService, owner: d.Caller, ocr_models: OcrModels) -> None:
    store = MemoryDerivatives()
    indexer = BibIndexer(client, store, ocr_models)
    event = photos.create_event(owner, d.NewEvent("Route", "2026-06-01", "", "public"))
    two = clean_sample(DATA, ["2718", "31"], height=140, seed=5).jpeg
    big = ready_photo(photos, owner, event, store, two)
    small = ready_photo(photos, owner, event, store, clean_sample(DATA, ["2718"], height=40, seed=6).jpeg)
    other = ready_photo(photos, owner, event, store, clean_sample(DATA, ["9000"], seed=7).jpeg)
    for p in (big, small, other):
        indexer.index(p)
    customer = (f"customer-{uuid.uuid4().hex[:8]}", "customer")
    path = f"/events/{event.id}/photos"

    status, body = api(f"{path}?bib=2718", customer)
    assert status == 200, body
    assert {p["id"] for p in body["photos"]} == {big, small} and body["next_cursor"] is None
    confidences = [p["bib"]["confidence"] for p in body["photos"]]
    assert confidences == sorted(confidences, reverse=True) and all(c >= 0.5 for c in confidences)
    assert all(p["bib"]["number"] == "2718" and len(p["bib"]["box"]) == 4 for p in body["photos"])
    status, first = api(f"{path}?bib=2718&limit=1", customer)
    assert status == 200 and len(first["photos"]) == 1 and first["next_cursor"]
    status, rest = api(f"{path}?bib=2718&limit=1&cursor={first['next_cursor']}", customer)
    assert len(rest["photos"]) == 1 and rest["photos"][0]["id"] != first["photos"][0]["id"]

    assert api(f"{path}?bib=31", customer)[1]["photos"][0]["id"] == big
    assert api(f"{path}?bib=1234", customer) == (200, {"photos": [], "next_cursor": None})
    status, everything = api(path, customer)  # without ?bib= the list is as before
    assert status == 200 and {p["id"] for p in everything["photos"]} == {big, small, other}

    for bad in ("", "12345678", "AB12", "12%2034", "%27%20OR%201%3D1"):
        status, body = api(f"{path}?bib={bad}", customer)
        assert (status, body["error"]["code"]) == (400, "bad_request"), bad
    assert api(f"{path}?bib=2718", None)[0] == 401

    private = photos.create_event(owner, d.NewEvent("Private", "2026-06-01", "", "private"))
    status, body = api(f"/events/{private.id}/photos?bib=2718", customer)
    assert (status, body["error"]["code"]) == (404, "not_found")
