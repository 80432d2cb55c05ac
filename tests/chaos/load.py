"""A steady, bounded load of uploads and orders through the public APIs, recording every attempt.

Uploads: ``POST /uploads`` (photos API, through the sidecar), then the bytes with the presigned
S3 PUT; acknowledged when S3 answers 200, after which the S3-triggered pipeline owns the photo.
Orders: ``POST /orders`` (transactions API) of one priced photo by a customer whose wallet was
topped up, with an Idempotency-Key; acknowledged by ``201``.

Every attempt is one ``Op``: when it started and ended, and how it ended. A failure is *clear*
when the caller was told what happened (our ``{"error": {"code", ...}}`` envelope, S3's XML error
code, or a refused connection while the service behind the port is down) and *unclear*
otherwise (a bare 5xx, a body we cannot read). A request that ran past the client's deadline is
*hung*. The suite allows clear failures during an outage and no unclear or hung ones.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.e2e.test_users_e2e import PASSWORD

# The client's deadline for one request: well past the functions' 15 s timeout and API Gateway's
# 29 s integration timeout, so only a request nothing ever answered runs into it.
DEADLINE_S = 45
ACK, CLEAR, UNCLEAR, HUNG = "acknowledged", "clear error", "unclear error", "hung"


@dataclass
class Op:
    kind: str  # "upload" | "order"
    started: float
    ended: float = 0.0
    outcome: str = ""
    detail: str = ""
    ref: str = ""  # the photo id (upload) or the order id (order)


@dataclass
class Actor:
    """A signed-in person; signs in again when the access token has expired, as a client does."""

    users_url: str
    email: str
    id: str
    headers: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sign_in(self) -> None:
        r = requests.post(f"{self.users_url}/auth/login", json={"email": self.email, "password": PASSWORD},
                          timeout=DEADLINE_S)
        checked(r, 200, "sign in")
        with self.lock:
            self.headers = {"Authorization": "Bearer " + r.json()["access_token"]}

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:
        extra = kw.pop("headers", {})
        r = requests.request(method, url, headers={**self.headers, **extra}, timeout=DEADLINE_S, **kw)
        if r.status_code == 401:
            self.sign_in()
            r = requests.request(method, url, headers={**self.headers, **extra}, timeout=DEADLINE_S, **kw)
        return r


def _code(r: requests.Response) -> str:
    try:
        error = r.json()["error"]
        return str(error["code"]) if error.get("message") else ""
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""


def _s3_code(r: requests.Response) -> str:
    text = r.text
    if "<Code>" in text:
        return text.split("<Code>", 1)[1].split("</Code>", 1)[0]
    return ""


def _gateway_refusal(r: requests.Response) -> str:
    """API Gateway's own 403/404 for an API it does not have (after LocalStack restarted, until
    the redeploy): explained, unlike its bare 502/504 for a function that failed or timed out."""
    if r.status_code not in (403, 404):
        return ""
    try:
        return "gateway: " + str(r.json()["message"])[:60]
    except (ValueError, KeyError, TypeError):
        return ""


def connection_outcome(exc: requests.ConnectionError) -> str:
    """Refused: the service behind the port is down, and the caller knows it. Reset, or closed
    without an answer: the process serving the request died under it (kill -9); which of the two
    the caller sees depends only on whether the kernel still held bytes the process had not read.
    Either way the caller was told that it got no answer, not handed one that looks like success."""
    text = str(exc).lower()
    died = ("refused", "reset", "closed connection without response")
    return CLEAR if any(word in text for word in died) else UNCLEAR


class Failed(Exception):
    """One step of an operation failed; ``outcome`` says how clearly."""

    def __init__(self, outcome: str, detail: str) -> None:
        super().__init__(detail)
        self.outcome, self.detail = outcome, detail


def checked(r: requests.Response, ok: int, step: str) -> requests.Response:
    if r.status_code == ok:
        return r
    code = _code(r) or _s3_code(r) or _gateway_refusal(r)
    outcome = CLEAR if code else UNCLEAR
    # The request id leads to the function's and the sidecar's log lines (make logs REQUEST=...).
    request_id = r.headers.get("X-Request-Id") or r.headers.get("x-amzn-RequestId") or "-"
    raise Failed(outcome, f"{step} {r.status_code} {code or r.text[:120]!r} (request {request_id})")


@dataclass
class Apis:
    users: str
    photos: str
    transactions: str

    @classmethod
    def of(cls, outputs: dict[str, str]) -> Apis:
        return cls(outputs["UsersApiUrl"].rstrip("/"), outputs["PhotosApiUrl"].rstrip("/"),
                   outputs["TransactionsApiUrl"].rstrip("/"))


@dataclass
class Order:
    customer: Actor
    photo_id: str
    key: str
    order_id: str = ""
    total_minor: int = 0


class Load:
    """Upload and order workers, each one operation every ``period_s``, until ``stop()``."""

    def __init__(self, apis: Apis, photographer: Actor, event_id: str, pairs: Iterator[tuple[Actor, str]],
                 photo_bytes: Callable[[int], bytes], *, upload_workers: int = 1, order_workers: int = 2,
                 period_s: float = 0.5) -> None:
        self.apis = apis
        self.photographer, self.event_id = photographer, event_id
        self._pairs, self._pairs_lock = pairs, threading.Lock()
        self._photo_bytes, self._seq = photo_bytes, itertools.count(1000)
        self.period_s = period_s
        self.ops: list[Op] = []
        self.orders: list[Order] = []  # every order attempted, acknowledged or not
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._worker = threading.local()
        self._threads = [threading.Thread(target=self._run, args=(self.upload,), daemon=True)
                         for _ in range(upload_workers)]
        self._threads += [threading.Thread(target=self._run, args=(self.order,), daemon=True)
                          for _ in range(order_workers)]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2 * DEADLINE_S + 10)

    def set_apis(self, apis: Apis) -> None:
        """New API addresses (a redeploy into a restarted LocalStack gives the APIs new ids)."""
        self.apis = apis
        self.photographer.users_url = apis.users
        with self._pairs_lock:
            for order in self.orders:
                order.customer.users_url = apis.users

    def snapshot(self) -> list[Op]:
        with self._lock:
            return list(self.ops)

    def _run(self, operation: Callable[[Op], None]) -> None:
        while not self._stop.is_set():
            op = Op(kind=operation.__name__, started=time.monotonic())
            try:
                operation(op)
                op.outcome = ACK
            except Failed as failed:
                op.outcome, op.detail = failed.outcome, failed.detail
            except requests.Timeout as exc:
                op.outcome, op.detail = HUNG, f"no answer within {DEADLINE_S} s: {type(exc).__name__}"
            except requests.ConnectionError as exc:
                op.outcome = connection_outcome(exc)
                op.detail = f"connection: {str(exc)[-120:]}"
            except _Exhausted:
                return
            except Exception as exc:  # an answer we could not read is a failure nobody explained
                op.outcome, op.detail = UNCLEAR, f"{type(exc).__name__}: {str(exc)[:120]}"
            op.ended = time.monotonic()
            with self._lock:
                self.ops.append(op)
            self._stop.wait(self.period_s)

    # ---- the two operations ------------------------------------------------------------

    def upload(self, op: Op) -> None:
        data = self._photo_bytes(next(self._seq))
        # With an Idempotency-Key, as the CLI sends: the photos function may then retry the
        # reservation on the other sidecar when the first one goes away mid-call.
        reserved = checked(self.photographer.request(
            "POST", f"{self.apis.photos}/uploads", headers={"Idempotency-Key": f"chaos-{uuid.uuid4().hex}"},
            json={"event_id": self.event_id, "content_type": "image/jpeg", "size_bytes": len(data)}),
            201, "reserve")
        body = reserved.json()
        op.ref = str(body["photo_id"])
        target = body["upload"]
        assert target["method"] == "PUT", target  # small photos: one presigned PUT
        checked(requests.put(target["url"], data=data, headers=target["headers"], timeout=DEADLINE_S),
                200, "s3 put")

    def order(self, op: Op) -> None:
        # A client whose order failed tries the same order again, with the same key, until it is
        # acknowledged (so a fault's failed attempts cannot have charged anyone twice).
        attempt: Order | None = getattr(self._worker, "pending", None)
        if attempt is None:
            with self._pairs_lock:
                pair = next(self._pairs, None)
                if pair is None:
                    raise _Exhausted
                attempt = Order(pair[0], pair[1], f"chaos-{uuid.uuid4().hex}")
                self.orders.append(attempt)
            self._worker.pending = attempt
        op.ref = attempt.key
        placed = checked(place(self.apis, attempt), 201, "order")
        attempt.order_id = str(placed.json()["order_id"])
        attempt.total_minor = int(placed.json()["total_minor"])
        op.ref = attempt.order_id
        self._worker.pending = None


class _Exhausted(Exception):
    """Every (customer, photo) pair was ordered: this worker is done."""


def place(apis: Apis, order: Order) -> requests.Response:
    return order.customer.request("POST", f"{apis.transactions}/orders", json={"photo_ids": [order.photo_id]},
                                  headers={"Idempotency-Key": order.key})
