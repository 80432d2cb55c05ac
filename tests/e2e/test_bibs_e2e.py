"""Bib search end to end, through the deployed stack: a photographer uploads race photos through
POST /uploads and the presigned PUT -> upload function -> photo ready -> SQS
photostack-faces-index -> index function (faces, then bibs: PP-OCR in the faces layer) ->
IndexBibs; then a customer's GET /events/{id}/photos?bib=N through API Gateway -> photos
function -> SearchBibs answers the photos where that number was read, best first. Bad values
are a 400, an event the caller cannot see a 404, a photo turned private is left out.

The photos are generated (infra/bib_images.py): bibs easy to read on the shared face photos,
with numbers drawn per run so that nothing from an earlier run can answer."""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.bib_images import clean_sample
from tests.conftest import aws_client
from tests.e2e.test_faces_e2e import DATA, TIMEOUT, account, create_event
from tests.index_queue import INDEX_DLQ, INDEX_QUEUE, queue_depth
from tests.integration.cli.conftest import Cli

pytestmark = pytest.mark.e2e

# Indexing four photos takes seconds on a quiet stack; the wait is generous but ends before
# pytest's 300 s timeout (setup and uploads come first), so that its message is what is reported.
WAIT_S = 200


def upload_jpeg(base: str, who: dict[str, str], event_id: str, data: bytes) -> str:
    r = requests.post(f"{base}/uploads", json={"event_id": event_id, "content_type": "image/jpeg",
                                               "size_bytes": len(data)}, headers=who, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    target = r.json()["upload"]
    put = requests.put(target["url"], data=data, headers=target["headers"], timeout=TIMEOUT)
    assert put.status_code == 200, put.text
    return str(r.json()["photo_id"])


def by_bib(base: str, who: dict[str, str], event_id: str, number: str, **params: Any) -> requests.Response:
    return requests.get(f"{base}/events/{event_id}/photos", params={"bib": number, **params}, headers=who,
                        timeout=TIMEOUT)


def index_queue() -> str:
    """The face-index queue and its dead-letter queue, as a failure message states them."""
    sqs = aws_client("sqs")
    parts = []
    for name in (INDEX_QUEUE, INDEX_DLQ):
        try:
            parts.append(f"{name}: {queue_depth(sqs, name).text()}")
        except Exception as exc:  # the message must come out even when LocalStack does not answer
            parts.append(f"{name}: not read ({type(exc).__name__})")
    return "; ".join(parts)


def pending(base: str, owner: dict[str, str], photo_ids: set[str]) -> dict[str, str]:
    """Where each photo still missing from the answers stands, as its owner sees it."""
    states = {}
    for photo_id in sorted(photo_ids):
        try:
            r = requests.get(f"{base}/photos/{photo_id}", headers=owner, timeout=TIMEOUT)
        except requests.RequestException as exc:
            states[photo_id] = f"not read ({type(exc).__name__})"
            continue
        body = r.json() if r.status_code == 200 else {}
        states[photo_id] = (f"status {body.get('status')}, faces step "
                            f"{'done' if body.get('faces') else 'not done'}"
                            if body else f"GET answered {r.status_code}")
    return states


def wait_found(base: str, who: dict[str, str], event_id: str, want: dict[str, set[str]],
               owner: dict[str, str], timeout_s: float = WAIT_S) -> dict[str, list[dict[str, Any]]]:
    """Poll ?bib= for every number until it answers the photos expected (indexing is asynchronous).

    The wait ends well before pytest's own timeout, so that a failure says what was still missing:
    each missing photo's status and whether its faces step ran, and the index queue's depth."""
    deadline = time.monotonic() + timeout_s
    got: dict[str, list[dict[str, Any]]] = {}
    while time.monotonic() < deadline:
        for number in want:
            r = by_bib(base, who, event_id, number)
            assert r.status_code == 200, r.text
            got[number] = r.json()["photos"]
        if all({p["id"] for p in got[n]} >= ids for n, ids in want.items()):
            return got
        time.sleep(2)
    missing = {n: ids - {p["id"] for p in got.get(n, [])} for n, ids in want.items()}
    missing = {n: ids for n, ids in missing.items() if ids}
    raise AssertionError(
        f"bibs not found in {timeout_s:.0f} s: number -> photos missing {missing}; those photos: "
        f"{pending(base, owner, set().union(*missing.values()))}; {index_queue()}")


def test_bib_search_finds_uploaded_photos_through_the_deployed_stack(stack: dict[str, str],
                                                                    tmp_path: Path) -> None:
    base = stack["PhotosApiUrl"].rstrip("/")
    photographer, customer = account(stack, "photographer"), account(stack, "customer")
    event_id = create_event(base, photographer)
    rng = random.Random()
    shared, alone, other = (str(rng.randint(100, 99999)) for _ in range(3))
    while len({shared, alone, other}) < 3:
        other = str(rng.randint(100, 99999))
    def photo(numbers: list[str], height: int, seed: int) -> str:
        return upload_jpeg(base, photographer, event_id, clean_sample(DATA, numbers, height, seed).jpeg)

    big, small = photo([shared, alone], 130, 1), photo([shared], 60, 2)
    third, bare = photo([other], 110, 3), photo([], 110, 4)

    got = wait_found(base, customer, event_id, {shared: {big, small}, alone: {big}, other: {third}},
                     photographer)
    assert {p["id"] for p in got[shared]} == {big, small}  # exactly those: not the other photos
    assert {p["id"] for p in got[alone]} == {big} and {p["id"] for p in got[other]} == {third}
    confidences = [p["bib"]["confidence"] for p in got[shared]]
    assert confidences == sorted(confidences, reverse=True)
    first = got[shared][0]
    assert first["bib"]["number"] == shared and first["status"] == "ready" and first["id"] != bare
    thumb = first["derivatives"]["thumb_jpg"]["url"]  # the customer's view: the paywall applies
    assert "web_jpg" not in first["derivatives"] and first["access"] == "preview"
    assert requests.get(thumb, timeout=TIMEOUT).status_code == 200

    page = by_bib(base, customer, event_id, shared, limit=1).json()
    rest = by_bib(base, customer, event_id, shared, limit=1, cursor=page["next_cursor"]).json()
    assert len(page["photos"]) == 1 and len(rest["photos"]) == 1 and rest["next_cursor"] is None
    assert by_bib(base, customer, event_id, "0").json()["photos"] == []

    # The command line asks the same: `photostack photos list <event> --bib N`.
    cli = Cli(tmp_path / "customer", stack)
    cli.register("customer")
    listed = cli.json("photos", "list", event_id, "--bib", alone)["photos"]
    assert [(p["id"], p["bib"]["number"]) for p in listed] == [(big, alone)]

    # A photo its owner makes private leaves the customer's answers, not the owner's.
    r = requests.patch(f"{base}/photos/{small}", json={"visibility": "private"}, headers=photographer,
                       timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert {p["id"] for p in by_bib(base, customer, event_id, shared).json()["photos"]} == {big}
    assert {p["id"] for p in by_bib(base, photographer, event_id, shared).json()["photos"]} == {big, small}


def test_bad_bib_values_and_events_the_caller_cannot_see(stack: dict[str, str]) -> None:
    base = stack["PhotosApiUrl"].rstrip("/")
    photographer, customer = account(stack, "photographer"), account(stack, "customer")
    event_id = create_event(base, photographer)
    for bad in ("", "1234567", "AB12", "12 34", "1' OR '1'='1", "%00"):
        r = by_bib(base, customer, event_id, bad)
        assert (r.status_code, r.json()["error"]["code"]) == (400, "bad_request"), bad
    assert requests.get(f"{base}/events/{event_id}/photos?bib=12", timeout=TIMEOUT).status_code == 401
    hidden = create_event(base, photographer, "private")
    for event in (hidden, str(uuid.uuid4())):
        r = by_bib(base, customer, event, "12")
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
