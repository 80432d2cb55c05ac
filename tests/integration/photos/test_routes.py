"""The photos API in-process over a real sidecar, Postgres, Redis and LocalStack S3."""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from photostack.discovery import get_resolver
from photostack.photo.v1 import photo_pb2 as pb
from photostack.photo_client import PhotoClient

from tests.identity import connect_identity
from tests.integration.photos.conftest import TEST_BUCKETS

pytestmark = pytest.mark.integration

UPLOADS = TEST_BUCKETS["PHOTOSTACK_UPLOADS_BUCKET"]
DERIVATIVES = TEST_BUCKETS["PHOTOSTACK_DERIVATIVES_BUCKET"]

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 996


def users() -> tuple[tuple[str, str], tuple[str, str], tuple[str, str]]:
    tag = uuid.uuid4().hex[:8]
    return (f"p-{tag}", "photographer"), (f"q-{tag}", "photographer"), (f"c-{tag}", "customer")


def make_ready(photo_id: str, s3: Any) -> str:
    """Play the upload pipeline: a clean web size and a watermarked preview, registered."""
    key = f"web/{photo_id}.jpg"
    for kind, k in (("web_jpg", key), ("preview_jpg", f"preview/{photo_id}.jpg")):
        s3.put_object(Bucket=DERIVATIVES, Key=k, Body=f"{kind}-bytes".encode(), ContentType="image/jpeg")
    # What the upload function does, as the upload function (its own Connect identity).
    upload = PhotoClient(get_resolver(), deadline_s=5.0, identity=connect_identity("photostack-upload"))
    upload.register_derivatives(
        pb.RegisterDerivativesRequest(
            photo_id=photo_id,
            width=4000,
            height=3000,
            original_bytes=1000,
            sha256="ab" * 32,
            derivatives=[
                pb.Derivative(
                    kind="web_jpg", key=key, width=1600, height=1200, bytes=16, content_type="image/jpeg"
                ),
                pb.Derivative(
                    kind="preview_jpg", key=f"preview/{photo_id}.jpg", width=1280, height=960, bytes=16,
                    content_type="image/jpeg",
                ),
            ],
        )
    )
    return key


def test_upload_browse_price_delete(api, s3_env) -> None:  # type: ignore[no-untyped-def]
    p, _, c = users()
    r = api.call("POST", "/events", {"name": "Trail", "date": "2025-06-01", "place": "Chamonix"}, user=p)
    assert r.status == 201, r.body
    event = r.body
    r = api.call(
        "POST",
        "/uploads",
        {"event_id": event["id"], "content_type": "image/jpeg", "size_bytes": len(JPEG)},
        user=p,
    )
    assert r.status == 201, r.body
    upload = r.body["upload"]
    assert upload["method"] == "PUT" and "originals/" in upload["url"]
    put = requests.put(upload["url"], data=JPEG, headers=upload["headers"], timeout=10)
    assert put.status_code == 200, put.text
    photo_id = r.body["photo_id"]
    head = s3_env.head_object(Bucket=UPLOADS, Key=f"originals/{event['id']}/{photo_id}")
    assert head["ContentLength"] == len(JPEG) and head["ContentType"] == "image/jpeg"

    # Pending: only the owner sees it.
    assert api.call("GET", f"/photos/{photo_id}", user=p).body["status"] == "pending"
    assert api.call("GET", f"/photos/{photo_id}", user=c).status == 404
    make_ready(photo_id, s3_env)
    r = api.call("GET", f"/photos/{photo_id}", user=c)
    assert r.status == 200 and r.body["status"] == "ready"
    assert "originals/" not in str(r.body)
    # A customer who has not bought it gets the watermarked preview, never the clean web size.
    assert r.body["access"] == "preview" and set(r.body["derivatives"]) == {"preview_jpg"}
    assert "web/" not in str(r.body)
    got = requests.get(r.body["derivatives"]["preview_jpg"]["url"], timeout=10)
    assert got.status_code == 200 and got.content == b"preview_jpg-bytes"
    mine = api.call("GET", f"/photos/{photo_id}", user=p).body
    assert mine["access"] == "full" and set(mine["derivatives"]) == {"web_jpg", "preview_jpg"}
    got = requests.get(mine["derivatives"]["web_jpg"]["url"], timeout=10)
    assert got.status_code == 200 and got.content == b"web_jpg-bytes"

    r = api.call("PATCH", f"/photos/{photo_id}", {"price_minor": 1500, "currency": "EUR"}, user=p)
    assert r.status == 200 and r.body["price"] == {"minor": 1500, "currency": "EUR"}
    r = api.call("GET", f"/events/{event['id']}/photos?limit=10", user=c)
    assert r.status == 200 and r.body["photos"][0]["price"]["minor"] == 1500
    assert set(r.body["photos"][0]["derivatives"]) == {"preview_jpg"}

    # Nobody bought it: deleted with every version of its original and its derivatives.
    assert api.call("DELETE", f"/photos/{photo_id}", user=p).status == 204
    assert api.call("GET", f"/photos/{photo_id}", user=p).status == 404
    versions = s3_env.list_object_versions(Bucket=UPLOADS, Prefix=f"originals/{event['id']}/{photo_id}")
    assert not versions.get("Versions") and not versions.get("DeleteMarkers")
    for key in (f"web/{photo_id}.jpg", f"preview/{photo_id}.jpg"):
        assert "Contents" not in s3_env.list_objects_v2(Bucket=DERIVATIVES, Prefix=key)


def test_replaying_the_upload_key_of_a_ready_photo_hands_out_no_upload_url(api, s3_env, made_events) -> None:  # type: ignore[no-untyped-def]
    p, _, _ = users()
    event = api.call("POST", "/events", {"name": "Sold", "date": "2025-06-01"}, user=p).body
    made_events.add(event["id"])  # its photo ends ready, its original in this test's own bucket
    body = {"event_id": event["id"], "content_type": "image/jpeg", "size_bytes": len(JPEG)}
    key = {"Idempotency-Key": f"upload-{uuid.uuid4().hex}"}
    first = api.call("POST", "/uploads", body, user=p, headers=key)
    assert first.status == 201
    # While pending, a replay is the same reservation with a fresh URL (a retried request).
    again = api.call("POST", "/uploads", body, user=p, headers=key)
    assert again.status == 201 and again.body["photo_id"] == first.body["photo_id"]
    make_ready(first.body["photo_id"], s3_env)
    replay = api.call("POST", "/uploads", body, user=p, headers=key)
    assert replay.status == 409, replay.body
    assert "ready" in replay.body["error"]["message"] and "url" not in str(replay.body)


def test_presigned_put_is_bound_to_type_and_size(api, s3_env) -> None:  # type: ignore[no-untyped-def]
    p, _, _ = users()
    event = api.call("POST", "/events", {"name": "E", "date": "2025-06-01"}, user=p).body
    r = api.call(
        "POST",
        "/uploads",
        {"event_id": event["id"], "content_type": "image/jpeg", "size_bytes": len(JPEG)},
        user=p,
    )
    url = r.body["upload"]["url"]
    signed = parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";")
    assert {"content-length", "content-type", "host"} <= set(signed)
    assert int(parse_qs(urlsplit(url).query)["X-Amz-Expires"][0]) <= 900
    # LocalStack checks presigned signatures only with S3_SKIP_SIGNATURE_VALIDATION=0;
    # where it does, another type or size must be refused.
    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    if requests.put(tampered, data=JPEG, headers=r.body["upload"]["headers"], timeout=10).status_code == 403:
        wrong_type = requests.put(url, data=JPEG, headers={"Content-Type": "text/html"}, timeout=10)
        assert wrong_type.status_code == 403
        too_big = requests.put(url, data=JPEG + b"x", headers={"Content-Type": "image/jpeg"}, timeout=10)
        assert too_big.status_code == 403


def test_multipart_upload_above_the_threshold(api, s3_env) -> None:  # type: ignore[no-untyped-def]
    p, q, _ = users()
    event = api.call("POST", "/events", {"name": "Big", "date": "2025-06-01"}, user=p).body
    size = 16 * 1024 * 1024 + 10
    r = api.call(
        "POST",
        "/uploads",
        {"event_id": event["id"], "content_type": "image/jpeg", "size_bytes": size},
        user=p,
    )
    assert r.status == 201, r.body
    upload = r.body["upload"]
    assert upload["method"] == "MULTIPART" and [x["size_bytes"] for x in upload["parts"]] == [
        8 * 1024 * 1024,
        8 * 1024 * 1024,
        10,
    ]
    parts = []
    for part in upload["parts"]:
        resp = requests.put(part["url"], data=b"\xff" * part["size_bytes"], timeout=30)
        assert resp.status_code == 200, resp.text
        parts.append({"part_number": part["part_number"], "etag": resp.headers["ETag"]})
    path = upload["complete_path"]
    body = {"upload_id": upload["upload_id"], "parts": parts}
    assert api.call("POST", path, body, user=q).status == 404  # a pending photo is invisible to others
    r = api.call("POST", path, body, user=p)
    assert r.status == 200, r.body
    head = s3_env.head_object(Bucket=UPLOADS, Key=f"originals/{event['id']}/{r.body['photo_id']}")
    assert head["ContentLength"] == size


def test_another_users_ids_on_every_route(api, s3_env, made_events) -> None:  # type: ignore[no-untyped-def]
    p, q, c = users()
    public = api.call("POST", "/events", {"name": "Pub", "date": "2025-06-01"}, user=p).body
    private = api.call(
        "POST", "/events", {"name": "Priv", "date": "2025-06-01", "visibility": "private"}, user=p
    ).body
    made_events.add(public["id"])  # ready photos, their originals in this test's own bucket
    made_events.add(private["id"])
    pending = api.call(
        "POST", "/uploads", {"event_id": public["id"], "content_type": "image/jpeg", "size_bytes": 10}, user=p
    ).body["photo_id"]
    ready = api.call(
        "POST", "/uploads", {"event_id": public["id"], "content_type": "image/jpeg", "size_bytes": 10}, user=p
    ).body["photo_id"]
    make_ready(ready, s3_env)
    hidden = api.call(
        "POST",
        "/uploads",
        {"event_id": private["id"], "content_type": "image/jpeg", "size_bytes": 10},
        user=p,
    ).body["photo_id"]
    make_ready(hidden, s3_env)

    for other in (q, c):
        assert api.call("GET", f"/events/{private['id']}", user=other).status == 404
        assert api.call("GET", f"/events/{private['id']}/photos", user=other).status == 404
        assert api.call("GET", f"/photos/{pending}", user=other).status == 404
        assert api.call("GET", f"/photos/{hidden}", user=other).status == 404
        assert api.call("PATCH", f"/photos/{ready}", {"visibility": "private"}, user=other).status == 403
        assert api.call("PATCH", f"/photos/{hidden}", {"visibility": "public"}, user=other).status == 404
        assert api.call("DELETE", f"/photos/{ready}", user=other).status == 403
        assert api.call("DELETE", f"/photos/{pending}", user=other).status == 404
        assert api.call(
            "POST",
            f"/uploads/{pending}/complete",
            {"upload_id": "u", "parts": [{"part_number": 1, "etag": "e"}]},
            user=other,
        ).status in (403, 404)
        listed = api.call("GET", f"/events/{public['id']}/photos", user=other).body["photos"]
        assert [x["id"] for x in listed] == [ready]
        events = api.call("GET", "/events?mine=true", user=other).body["events"]
        assert not {public["id"], private["id"]} & {e["id"] for e in events}
    assert (
        api.call(
            "POST",
            "/uploads",
            {"event_id": public["id"], "content_type": "image/jpeg", "size_bytes": 10},
            user=q,
        ).status
        == 403
    )
    assert (
        api.call(
            "POST",
            "/uploads",
            {"event_id": private["id"], "content_type": "image/jpeg", "size_bytes": 10},
            user=q,
        ).status
        == 404
    )
    assert (
        api.call(
            "POST",
            "/uploads",
            {"event_id": public["id"], "content_type": "image/jpeg", "size_bytes": 10},
            user=c,
        ).status
        == 403
    )
    assert api.call("POST", "/events", {"name": "x", "date": "2025-06-01"}, user=c).status == 403
    # The owner still sees everything.
    assert len(api.call("GET", f"/events/{public['id']}/photos", user=p).body["photos"]) == 2
    assert api.call("GET", f"/photos/{hidden}", user=p).status == 200


def test_bad_input_is_a_clear_4xx(api) -> None:  # type: ignore[no-untyped-def]
    p, _, _ = users()
    event = api.call("POST", "/events", {"name": "E", "date": "2025-06-01"}, user=p).body
    assert api.call("GET", "/events").status == 401
    assert api.call("GET", "/health").body == {"status": "ok", "service": "photos"}
    cases = [
        ("POST", "/events", {"name": "E", "date": "yesterday"}, 400),
        ("POST", "/events", {"name": "", "date": "2025-06-01"}, 400),
        ("POST", "/events", {"name": "E"}, 400),
        ("GET", f"/events/{event['id']}/photos?limit=0", None, 400),
        ("GET", f"/events/{event['id']}/photos?cursor=garbage", None, 400),
        ("GET", "/events/not-a-uuid", None, 404),
        ("GET", f"/photos/{uuid.uuid4()}", None, 404),
        ("PATCH", f"/photos/{uuid.uuid4()}", {"price_minor": 5, "currency": "EUR"}, 404),
        (
            "POST",
            "/uploads",
            {"event_id": event["id"], "content_type": "image/svg+xml", "size_bytes": 5},
            415,
        ),
        (
            "POST",
            "/uploads",
            {"event_id": event["id"], "content_type": "image/jpeg", "size_bytes": 2**31},
            413,
        ),
    ]
    for method, path, body, status in cases:
        r = api.call(method, path, body, user=p)
        assert r.status == status, (method, path, r.body)
        assert set(r.body["error"]) >= {"code", "message"}
    photo_id = api.call(
        "POST", "/uploads", {"event_id": event["id"], "content_type": "image/jpeg", "size_bytes": 5}, user=p
    ).body["photo_id"]
    r = api.call("PATCH", f"/photos/{photo_id}", {"price_minor": 500}, user=p)
    assert r.status == 400 and "currency" in r.body["error"]["message"]


def test_idempotent_creation(api) -> None:  # type: ignore[no-untyped-def]
    p, _, _ = users()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = api.call("POST", "/events", {"name": "E", "date": "2025-06-01"}, user=p, headers=key)
    again = api.call("POST", "/events", {"name": "E", "date": "2025-06-01"}, user=p, headers=key)
    assert first.body["id"] == again.body["id"]
    other = api.call("POST", "/events", {"name": "F", "date": "2025-06-01"}, user=p, headers=key)
    assert other.status == 409


def test_pagination_through_the_api(api, s3_env) -> None:  # type: ignore[no-untyped-def]
    p, _, _ = users()
    event = api.call("POST", "/events", {"name": "E", "date": "2025-06-01"}, user=p).body
    ids = [
        api.call(
            "POST",
            "/uploads",
            {"event_id": event["id"], "content_type": "image/jpeg", "size_bytes": 5},
            user=p,
        ).body["photo_id"]
        for _ in range(7)
    ]
    seen: list[str] = []
    cursor = ""
    while True:
        r = api.call("GET", f"/events/{event['id']}/photos?limit=3&cursor={cursor}", user=p)
        seen += [x["id"] for x in r.body["photos"]]
        cursor = r.body["next_cursor"] or ""
        if not cursor:
            break
    assert seen == ids


def test_sidecar_down_is_a_quick_503(api_for) -> None:  # type: ignore[no-untyped-def]
    api = api_for(service=f"photo-sidecar-test-none-{uuid.uuid4().hex[:8]}")  # no instance registered
    p, _, _ = users()
    assert api.call("GET", "/health").status == 503
    start = time.monotonic()
    r = api.call("GET", "/events", user=p)
    assert r.status == 503 and r.body["error"]["code"] == "service_unavailable"
    assert time.monotonic() - start < 2.0
