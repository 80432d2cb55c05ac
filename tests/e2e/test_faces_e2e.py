"""Face search end to end, through the deployed stack: a photographer uploads crops and group
photos through POST /uploads and the presigned PUT -> upload function -> photo ready -> SQS
photostack-faces-index -> face-index function -> IndexFaces; then a customer's selfie (a crop
of a person that was not uploaded in that exact file) finds that person's photos through API
Gateway -> photos function (faces layer) -> SearchFaces. Bad inputs end as clear 4xx. An
opt-out made with someone else's selfie hides that person from everyone, the opter included,
and returns without scanning faces; a burst of searches past the per-account limit is a 429.

Who is in which group photo (at the 0.35 threshold, measured with the models): bbt1 has Howard,
Leonard, Raj and Sheldon; bbt4 has Amy, Bernadette, Leonard, Penny, Raj and Sheldon; Stuart is
in neither."""

from __future__ import annotations

import base64
import io
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

pytestmark = pytest.mark.e2e

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "faces"
TIMEOUT = 60
PASSWORD = "correct horse battery staple"
UPLOADS = ("people/amy/amy2.png", "people/amy/amy3.png", "people/raj/raj2.png", "groups/bbt1.jpg",
           "groups/bbt4.jpg")


def account(stack: dict[str, str], role: str) -> dict[str, str]:
    users = stack["UsersApiUrl"].rstrip("/")
    email = f"faces-e2e-{uuid.uuid4().hex[:10]}@example.com"
    r = requests.post(f"{users}/auth/register", timeout=TIMEOUT, json={
        "email": email, "password": PASSWORD, "display_name": "Faces E2E", "role": role})
    assert r.status_code == 201, r.text
    r = requests.post(f"{users}/auth/login", json={"email": email, "password": PASSWORD}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def create_event(base: str, who: dict[str, str], visibility: str = "public") -> str:
    r = requests.post(f"{base}/events", json={"name": "Faces E2E", "date": "2025-06-01", "place": "Paris",
                                              "visibility": visibility}, headers=who, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def upload(base: str, who: dict[str, str], event_id: str, name: str) -> str:
    data = (DATA / name).read_bytes()
    content_type = "image/png" if name.endswith(".png") else "image/jpeg"
    r = requests.post(f"{base}/uploads", json={"event_id": event_id, "content_type": content_type,
                                               "size_bytes": len(data)}, headers=who, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    target = r.json()["upload"]
    put = requests.put(target["url"], data=data, headers=target["headers"], timeout=TIMEOUT)
    assert put.status_code == 200, put.text
    return str(r.json()["photo_id"])


def wait_indexed(base: str, who: dict[str, str], photo_ids: list[str],
                 timeout_s: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    done: dict[str, Any] = {}
    while time.monotonic() < deadline:
        for photo_id in photo_ids:
            if photo_id in done:
                continue
            r = requests.get(f"{base}/photos/{photo_id}", headers=who, timeout=TIMEOUT)
            assert r.status_code == 200, r.text
            assert r.json()["status"] != "failed", r.json()
            if r.json().get("faces"):
                done[photo_id] = r.json()["faces"]
        if len(done) == len(photo_ids):
            return done
        time.sleep(1)
    raise AssertionError(f"not face-indexed in {timeout_s} s: {sorted(set(photo_ids) - set(done))}")


def selfie(data: bytes) -> dict[str, str]:
    return {"image_base64": base64.b64encode(data).decode()}


def crop(name: str) -> dict[str, str]:
    return selfie((DATA / "people" / name.rstrip("0123456789") / f"{name}.png").read_bytes())


def test_selfie_search_finds_the_right_photos_through_the_deployed_stack(stack: dict[str, str]) -> None:
    base = stack["PhotosApiUrl"].rstrip("/")
    photographer = account(stack, "photographer")
    customer = account(stack, "customer")
    event_id = create_event(base, photographer)
    ids = {name: upload(base, photographer, event_id, name) for name in UPLOADS}
    faces = wait_indexed(base, photographer, list(ids.values()))
    assert faces[ids["people/amy/amy2.png"]]["count"] == 1
    assert faces[ids["groups/bbt1.jpg"]]["count"] >= 3 and faces[ids["groups/bbt4.jpg"]]["count"] >= 4

    search = f"{base}/events/{event_id}/face-search"
    r = requests.post(search, json=crop("amy1"), headers=customer, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    matches = r.json()["matches"]
    want = {ids["people/amy/amy2.png"], ids["people/amy/amy3.png"], ids["groups/bbt4.jpg"]}
    assert {m["photo_id"] for m in matches} == want
    assert [m["score"] for m in matches] == sorted((m["score"] for m in matches), reverse=True)
    thumb = requests.get(matches[0]["thumb_url"], timeout=TIMEOUT)
    assert thumb.status_code == 200 and len(thumb.content) > 100

    r = requests.post(search, json=crop("raj1"), headers=customer, timeout=TIMEOUT)
    assert {m["photo_id"] for m in r.json()["matches"]} == {
        ids["people/raj/raj2.png"], ids["groups/bbt1.jpg"], ids["groups/bbt4.jpg"]}
    first = requests.post(search + "?limit=2", json=crop("raj1"), headers=customer, timeout=TIMEOUT).json()
    rest = requests.post(f"{search}?limit=2&cursor={first['next_cursor']}", json=crop("raj1"),
                         headers=customer, timeout=TIMEOUT).json()
    assert len(first["matches"]) == 2 and len(rest["matches"]) == 1 and rest["next_cursor"] is None

    # A person who is not in the event: an empty list, not a wrong match.
    r = requests.post(search, json=crop("stuart1"), headers=customer, timeout=TIMEOUT)
    assert (r.status_code, r.json()["matches"]) == (200, [])


def test_bad_selfies_and_events_the_caller_cannot_see(stack: dict[str, str]) -> None:
    base = stack["PhotosApiUrl"].rstrip("/")
    photographer = account(stack, "photographer")
    customer = account(stack, "customer")
    event_id = create_event(base, photographer)
    search = f"{base}/events/{event_id}/face-search"

    def refused(body: Any, headers: dict[str, str] = customer, url: str = search) -> tuple[int, str]:
        r = requests.post(url, json=body, headers=headers, timeout=TIMEOUT)
        return r.status_code, r.json()["error"]["code"]

    blank = io.BytesIO()
    Image.new("RGB", (800, 600), (120, 160, 90)).save(blank, "JPEG")
    assert refused(selfie(blank.getvalue())) == (422, "no_face")
    assert refused(selfie((DATA / "groups" / "bbt2.jpg").read_bytes())) == (422, "several_faces")
    assert refused(selfie(b"%PDF-1.7 not an image")) == (400, "not_an_image")
    huge = io.BytesIO()
    Image.new("L", (8000, 7000)).save(huge, "PNG")  # 56 MP declared, small on the wire
    assert refused(selfie(huge.getvalue())) == (413, "image_too_large")
    assert refused({"image_base64": "@@@"}) == (400, "invalid_image")
    assert requests.post(search, json=crop("amy1"), timeout=TIMEOUT).status_code == 401

    hidden = create_event(base, photographer, "private")
    assert refused(crop("amy1"), url=f"{base}/events/{hidden}/face-search") == (404, "not_found")
    assert refused(crop("amy1"), url=f"{base}/events/{uuid.uuid4()}/face-search") == (404, "not_found")


def test_an_opt_out_with_someone_elses_selfie_hides_them_from_everyone_the_opter_included(
        stack: dict[str, str]) -> None:
    base = stack["PhotosApiUrl"].rstrip("/")
    photographer = account(stack, "photographer")
    customer, abuser = account(stack, "customer"), account(stack, "customer")
    event_id = create_event(base, photographer)
    penny = upload(base, photographer, event_id, "people/penny/penny2.png")
    raj = upload(base, photographer, event_id, "people/raj/raj2.png")
    wait_indexed(base, photographer, [penny, raj])
    search = f"{base}/events/{event_id}/face-search"

    def found(who: dict[str, str], name: str) -> set[str]:
        r = requests.post(search, json=crop(name), headers=who, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        return {m["photo_id"] for m in r.json()["matches"]}

    assert found(customer, "penny1") == {penny}  # also warms the photos function and its models
    opt_out = f"{base}/users/me/face-indexing"
    try:
        started = time.monotonic()
        r = requests.put(opt_out, json={"enabled": False, **crop("penny3")}, headers=abuser, timeout=TIMEOUT)
        took = time.monotonic() - started
        assert r.status_code == 200, r.text
        assert r.json()["enabled"] is False and "faces_withheld" not in r.json()
        # Only the selfie's embedding and one row: no face is scanned inside the request.
        assert took < 5, f"the opt-out took {took:.1f} s"
        assert found(customer, "penny1") == set()
        assert found(abuser, "penny1") == set()  # the opter gains no exclusive match
        assert found(abuser, "raj1") == {raj} and found(customer, "raj1") == {raj}
    finally:
        r = requests.put(opt_out, json={"enabled": True}, headers=abuser, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
    assert found(customer, "penny1") == {penny}


def test_a_burst_of_face_searches_past_the_account_limit_is_refused(stack: dict[str, str]) -> None:
    """The deployed default: 30 searches per account per minute. Bodies that fail fast (no image):
    the limit counts before the selfie is decoded, so each costs the function almost nothing."""
    base = stack["PhotosApiUrl"].rstrip("/")
    customer = account(stack, "customer")
    search = f"{base}/events/{uuid.uuid4()}/face-search"
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: requests.post(search, json={}, headers=customer, timeout=TIMEOUT),
                                range(36)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(400) == 30 and statuses.count(429) == 6, statuses
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["Content-Type"].startswith("application/json")
