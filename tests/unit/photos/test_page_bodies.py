"""The photo page's JSON kept per answer of the sidecar (photos/page_bodies.py): the sidecar is
asked on every call, a changed answer is a new body at once, and each viewer gets only their view."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import pytest
from photos.page_bodies import PageBodies
from photos.services import PhotosService
from photos.storage import Storage
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo_client import PhotoClient
from photostack.tokens import Principal

from tests.fake_clock import Clock

pytestmark = pytest.mark.unit


def test_a_body_is_kept_for_ttl_then_built_again() -> None:
    clock = Clock()
    bodies = PageBodies(ttl_s=5, clock=clock)
    built: list[str] = []

    def build(text: str) -> Callable[[], str]:
        def make() -> str:
            built.append(text)
            return text
        return make

    assert bodies.get(("a", ""), build("A")) == "A"
    assert bodies.get(("a", ""), build("A2")) == "A"
    assert bodies.get(("b", ""), build("B")) == "B"
    clock.now += 5
    assert bodies.get(("a", ""), build("A3")) == "A3"
    assert built == ["A", "B", "A3"]


def test_bodies_are_bounded() -> None:
    bodies = PageBodies(ttl_s=60, max_entries=3)
    for i in range(10):
        bodies.get(i, lambda i=i: str(i))  # type: ignore[misc]
    assert len(bodies) == 3


class FakeClient:
    def __init__(self) -> None:
        self.page = pb.ListEventPhotosResponse()
        self.calls = 0

    def list_event_photos(self, request: pb.ListEventPhotosRequest, *, user: Principal) -> Any:
        self.calls += 1
        return self.page


class FakeStorage:
    ttl_s = 300

    def derivative_url(self, key: str) -> str:
        return f"https://signed.example/{key}?sig=1"


def photo(photo_id: str, owner: str) -> pb.Photo:
    return pb.Photo(id=photo_id, event_id="e", owner_id=owner, status=pb.PHOTO_STATUS_READY,
                    visibility=pb.VISIBILITY_PUBLIC, content_type="image/jpeg", sha256="ab" * 32,
                    derivatives=[pb.Derivative(kind="thumb", key=f"thumb/{photo_id}.jpg", width=4, height=3)])


def viewer(user_id: str) -> Principal:
    return Principal(user_id=user_id, role="customer", token_id="t", access_token="token")


def test_every_call_asks_the_sidecar_and_a_changed_answer_is_a_new_body() -> None:
    client = FakeClient()
    service = PhotosService(cast(PhotoClient, client), cast(Storage, FakeStorage()))
    client.page = pb.ListEventPhotosResponse(photos=[photo("p1", "alice"), photo("p2", "alice")])
    first = json.loads(service.list_event_photos(viewer("bob"), "e", cursor="", limit=50))
    assert [p["id"] for p in first["photos"]] == ["p1", "p2"]
    # p2 deleted, made private or unlisted: the sidecar leaves it out, the next body does too.
    client.page = pb.ListEventPhotosResponse(photos=[photo("p1", "alice")])
    second = json.loads(service.list_event_photos(viewer("bob"), "e", cursor="", limit=50))
    assert [p["id"] for p in second["photos"]] == ["p1"]
    assert client.calls == 2


def test_the_owner_and_other_viewers_of_one_answer_get_their_own_bodies() -> None:
    client = FakeClient()
    service = PhotosService(cast(PhotoClient, client), cast(Storage, FakeStorage()))
    client.page = pb.ListEventPhotosResponse(photos=[photo("p1", "alice")])
    stranger = json.loads(service.list_event_photos(viewer("bob"), "e", cursor="", limit=50))
    owner = json.loads(service.list_event_photos(viewer("alice"), "e", cursor="", limit=50))
    again = json.loads(service.list_event_photos(viewer("carol"), "e", cursor="", limit=50))
    assert "sha256" not in stranger["photos"][0] and "sha256" not in again["photos"][0]
    assert owner["photos"][0]["sha256"] == "ab" * 32
    assert stranger["photos"][0]["derivatives"]["thumb"]["url"].startswith("https://signed.example/thumb/p1")
