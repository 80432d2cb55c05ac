"""Photos end to end: API Gateway → photos function → Consul → sidecar; S3 upload →
upload function → RegisterDerivatives; presigned derivative download."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import pytest
import requests
from PIL import Image

pytestmark = pytest.mark.e2e

TIMEOUT = 30
PASSWORD = "correct horse battery staple"


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1200, 800), (200, 120, 40)).save(out, "JPEG", quality=85)
    return out.getvalue()


def account(stack: dict[str, str], role: str) -> dict[str, str]:
    users = stack["UsersApiUrl"].rstrip("/")
    email = f"photos-e2e-{uuid.uuid4().hex[:10]}@example.com"
    r = requests.post(
        f"{users}/auth/register",
        json={"email": email, "password": PASSWORD, "display_name": "Photos E2E", "role": role},
        timeout=TIMEOUT,
    )
    assert r.status_code == 201, r.text
    r = requests.post(f"{users}/auth/login", json={"email": email, "password": PASSWORD}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def wait_ready(base: str, photo_id: str, headers: dict[str, str], timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        r = requests.get(f"{base}/photos/{photo_id}", headers=headers, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        if r.json()["status"] != "pending":
            return dict(r.json())
        time.sleep(1)
    raise AssertionError("the photo stayed pending")


def test_upload_browse_price_delete_through_api_gateway(stack: dict[str, str]) -> None:
    base = stack["PhotosApiUrl"].rstrip("/")
    photographer = account(stack, "photographer")
    customer = account(stack, "customer")
    assert requests.get(f"{base}/events", timeout=TIMEOUT).status_code == 401

    r = requests.post(
        f"{base}/events",
        json={"name": "E2E shoot", "date": "2025-06-01", "place": "Lyon"},
        headers={**photographer, "Idempotency-Key": uuid.uuid4().hex},
        timeout=TIMEOUT,
    )
    assert r.status_code == 201, r.text
    event = r.json()
    data = jpeg()
    r = requests.post(
        f"{base}/uploads",
        json={"event_id": event["id"], "content_type": "image/jpeg", "size_bytes": len(data)},
        headers=photographer,
        timeout=TIMEOUT,
    )
    assert r.status_code == 201, r.text
    photo_id, upload = r.json()["photo_id"], r.json()["upload"]
    put = requests.put(upload["url"], data=data, headers=upload["headers"], timeout=TIMEOUT)
    assert put.status_code == 200, put.text

    photo = wait_ready(base, photo_id, photographer)
    assert photo["status"] == "ready", photo
    assert "originals/" not in str(photo)
    web = next(iter(photo["derivatives"].values()))
    got = requests.get(web["url"], timeout=TIMEOUT)
    assert got.status_code == 200 and got.content[:2] == b"\xff\xd8"

    r = requests.patch(
        f"{base}/photos/{photo_id}",
        json={"price_minor": 1200, "currency": "EUR"},
        headers=photographer,
        timeout=TIMEOUT,
    )
    assert r.status_code == 200, r.text
    r = requests.get(f"{base}/events/{event['id']}/photos?limit=10", headers=customer, timeout=TIMEOUT)
    assert r.status_code == 200 and [p["id"] for p in r.json()["photos"]] == [photo_id]
    assert r.json()["photos"][0]["price"] == {"minor": 1200, "currency": "EUR"}

    assert requests.patch(
        f"{base}/photos/{photo_id}", json={"price_minor": 1}, headers=customer, timeout=TIMEOUT
    ).status_code == 403
    assert requests.delete(f"{base}/photos/{photo_id}", headers=customer, timeout=TIMEOUT).status_code == 403
    assert (
        requests.delete(f"{base}/photos/{photo_id}", headers=photographer, timeout=TIMEOUT).status_code == 204
    )
    assert requests.get(f"{base}/photos/{photo_id}", headers=photographer, timeout=TIMEOUT).status_code == 404
