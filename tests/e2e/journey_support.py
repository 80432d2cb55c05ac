"""What a person does through the public APIs, for the journey tests: sign up, create an
event, upload through the presigned S3 URLs (one PUT or multipart), wait for processing,
price, browse, buy, download; and stopping and starting the photo sidecar.

Everything goes over HTTP to API Gateway and S3; nothing reads or writes the database.
Account and wallet steps reuse the users and transactions e2e helpers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.e2e.test_transactions_e2e import assert_error, balance, fund
from tests.e2e.test_users_e2e import auth, login, register

__all__ = ["Apis", "Person", "Upload", "assert_error", "balance", "fund", "person"]

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60
SIDECAR_PORT = int(os.environ.get("PHOTOSTACK_SIDECAR_PORT", "15051"))
# `make up` runs PHOTOSTACK_SIDECAR_INSTANCES instances (2 by default), instance n on port + 2(n-1).
SIDECAR_INSTANCES = int(os.environ.get("PHOTOSTACK_SIDECAR_INSTANCES", "2"))
SIDECAR_PORTS = [SIDECAR_PORT + 2 * n for n in range(SIDECAR_INSTANCES)]


@dataclass(frozen=True)
class Apis:
    users: str
    photos: str
    transactions: str

    @classmethod
    def of(cls, stack: dict[str, str]) -> Apis:
        return cls(stack["UsersApiUrl"].rstrip("/"), stack["PhotosApiUrl"].rstrip("/"),
                   stack["TransactionsApiUrl"].rstrip("/"))


@dataclass(frozen=True)
class Person:
    id: str
    email: str
    headers: dict[str, str]


def person(apis: Apis, role: str) -> Person:
    """A new account of ``role``, signed in with email and password."""
    user = register(apis.users, role=role)
    tokens = login(apis.users, user["email"])
    assert tokens["user"]["id"] == user["id"]
    return Person(user["id"], user["email"], auth(tokens))


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"journey-{uuid.uuid4().hex}"}


def create_event(apis: Apis, who: Person, name: str) -> str:
    r = requests.post(f"{apis.photos}/events", json={"name": name, "date": "2025-06-01", "place": "Lyon"},
                      headers={**who.headers, **key()}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


# ---- uploads ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    """A reserved photo and where its bytes go (the answer of POST /uploads)."""

    photo_id: str
    target: dict[str, Any]
    data: bytes


def reserve(apis: Apis, who: Person, event_id: str, data: bytes, content_type: str) -> Upload:
    r = requests.post(f"{apis.photos}/uploads", headers=who.headers, timeout=TIMEOUT,
                      json={"event_id": event_id, "content_type": content_type, "size_bytes": len(data)})
    assert r.status_code == 201, r.text
    return Upload(str(r.json()["photo_id"]), r.json()["upload"], data)


def send(apis: Apis, who: Person, upload: Upload) -> None:
    """The bytes straight to S3: one presigned PUT, or each part then POST /uploads/{id}/complete."""
    target = upload.target
    if target["method"] == "PUT":
        put = requests.put(target["url"], data=upload.data, headers=target["headers"], timeout=TIMEOUT)
        assert put.status_code == 200, put.text
        return
    assert target["method"] == "MULTIPART", target
    parts, offset = [], 0
    for part in target["parts"]:
        size = int(part["size_bytes"])
        put = requests.put(part["url"], data=upload.data[offset:offset + size], timeout=TIMEOUT)
        assert put.status_code == 200, put.text
        parts.append({"part_number": part["part_number"], "etag": put.headers["ETag"]})
        offset += size
    assert offset == len(upload.data)
    done = requests.post(f"{apis.photos}/uploads/{upload.photo_id}/complete", headers=who.headers,
                         json={"upload_id": target["upload_id"], "parts": parts}, timeout=TIMEOUT)
    assert done.status_code == 200, done.text


def upload_all(apis: Apis, who: Person, event_id: str, files: Iterable[tuple[bytes, str]],
               workers: int = 4) -> list[Upload]:
    """Reserve and send every ``(bytes, content type)`` in parallel, as a client would."""

    def one(item: tuple[bytes, str]) -> Upload:
        upload = reserve(apis, who, event_id, *item)
        send(apis, who, upload)
        return upload

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, files))


def photo(apis: Apis, who: Person, photo_id: str) -> dict[str, Any]:
    r = requests.get(f"{apis.photos}/photos/{photo_id}", headers=who.headers, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return dict(r.json())


def wait_processed(apis: Apis, who: Person, photo_ids: Iterable[str],
                   timeout_s: float = 120) -> dict[str, dict[str, Any]]:
    """Each photo once it is ``ready`` or ``failed`` (as its owner sees it)."""
    waiting = set(photo_ids)
    done: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout_s
    while waiting:
        for photo_id in sorted(waiting):
            seen = photo(apis, who, photo_id)
            if seen["status"] != "pending":
                done[photo_id] = seen
        waiting -= set(done)
        if waiting:
            assert time.monotonic() < deadline, f"still pending after {timeout_s} s: {sorted(waiting)}"
            time.sleep(1)
    return done


def set_price(apis: Apis, who: Person, photo_id: str, minor: int, currency: str = "EUR") -> None:
    r = requests.patch(f"{apis.photos}/photos/{photo_id}", json={"price_minor": minor, "currency": currency},
                       headers=who.headers, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.json()["price"] == {"minor": minor, "currency": currency}


def browse(apis: Apis, who: Person, event_id: str, limit: int) -> list[list[dict[str, Any]]]:
    """Every page of the event, following ``next_cursor`` until there is none."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        r = requests.get(f"{apis.photos}/events/{event_id}/photos", params=params, headers=who.headers,
                         timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        pages.append(r.json()["photos"])
        cursor = r.json()["next_cursor"]
        if not cursor:
            return pages
        assert len(pages) < 1000, "the cursor never ends"


def order(apis: Apis, who: Person, photo_ids: list[str], idempotency_key: str) -> requests.Response:
    return requests.post(f"{apis.transactions}/orders", json={"photo_ids": photo_ids}, timeout=TIMEOUT,
                         headers={**who.headers, "Idempotency-Key": idempotency_key})


def download_url(apis: Apis, who: Person, photo_id: str) -> requests.Response:
    return requests.get(f"{apis.transactions}/purchases/{photo_id}/download", headers=who.headers,
                        timeout=TIMEOUT)


def earnings(apis: Apis, who: Person, currency: str = "EUR") -> dict[str, Any]:
    r = requests.get(f"{apis.transactions}/earnings", headers=who.headers, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return next((dict(e) for e in r.json()["earnings"] if e["currency"] == currency), {})


def fetch(url: str) -> bytes:
    r = requests.get(url, timeout=TIMEOUT)
    assert r.status_code == 200, r.text[:300]
    return r.content


# ---- the photo sidecar ---------------------------------------------------------------

def _services(*args: str) -> None:
    subprocess.run(["bash", str(ROOT / "infra" / "services.sh"), *args], check=True, cwd=ROOT,
                   capture_output=True, timeout=90)


def _listener_pid(port: int) -> int | None:
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True,
                         check=False).stdout
    for field in out.split("pid=")[1:]:
        return int(field.split(",")[0])
    return None


def stop_sidecar() -> None:
    """Stop every photo sidecar instance; one that ``services.sh up`` did not start is sent SIGTERM."""
    _services("down", "sidecar")
    for port in SIDECAR_PORTS:
        pid = _listener_pid(port)
        if pid is not None:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            assert b"sidecar" in cmdline, f"port {port} is held by something else: {cmdline!r}"
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while any(_listener_pid(port) is not None for port in SIDECAR_PORTS):
        assert time.monotonic() < deadline, "the sidecar did not stop"
        time.sleep(0.2)


def start_sidecar(apis: Apis, timeout_s: float = 60) -> None:
    """Start the sidecar and wait until the photos API reaches it (through Consul)."""
    _services("up", "sidecar")
    deadline = time.monotonic() + timeout_s
    while requests.get(f"{apis.photos}/health", timeout=TIMEOUT).status_code != 200:
        assert time.monotonic() < deadline, "the photos API does not reach the restarted sidecar"
        time.sleep(0.5)
    wait_sidecars_listed(timeout_s)


def wait_sidecars_listed(timeout_s: float = 30) -> None:
    """Until Consul lists every instance as healthy again: what every later caller (and the
    identity tests, which dial instance 1) finds, not only the one the photos API reached."""
    from tests.identity import STACK_SIDECAR, resolver

    wanted = {f"127.0.0.1:{port}" for port in SIDECAR_PORTS}
    deadline = time.monotonic() + timeout_s
    while not wanted <= set(resolver(STACK_SIDECAR).instances()):
        assert time.monotonic() < deadline, f"Consul does not list every sidecar instance: {wanted}"
        time.sleep(0.2)
