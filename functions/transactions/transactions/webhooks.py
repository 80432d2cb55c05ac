"""Payment-provider webhooks: signature check and event parsing.

The provider signs ``"<timestamp>.<raw body>"`` with HMAC-SHA256 under the
shared secret and sends ``X-Photostack-Signature: t=<unix seconds>,v1=<hex>``.
A request is accepted only if one ``v1`` matches (compared in constant time)
and the timestamp is within :data:`TOLERANCE_S` of now, which bounds how long a
captured request could be replayed; replays inside that window are caught by
the event id, which the service records once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass

from transactions.errors import InvalidRequest, WebhookRejected

SIGNATURE_HEADER = "X-Photostack-Signature"
TOLERANCE_S = 300
EVENT_STATUSES = ("succeeded", "failed")
_EVENT_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_HEX_RE = re.compile(r"^[0-9a-f]{64}$")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={sign(secret, body, ts)}"


def verify(secret: str, header: str | None, body: bytes, *, now: float | None = None,
           tolerance_s: int = TOLERANCE_S) -> int:
    """The signed timestamp, or :class:`WebhookRejected`."""
    if not header:
        raise WebhookRejected(f"missing {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1" and _HEX_RE.match(value):
            candidates.append(value)
    if timestamp is None or not candidates:
        raise WebhookRejected("malformed signature header")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise WebhookRejected("signature timestamp is outside the tolerance window",
                              code="stale_signature")
    expected = sign(secret, body, timestamp)
    # Every candidate is compared, so timing says nothing about which one failed.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise WebhookRejected("signature does not match")
    return timestamp


@dataclass(frozen=True)
class PaymentEvent:
    event_id: str
    payment_id: str
    status: str

    @classmethod
    def parse(cls, body: bytes) -> PaymentEvent:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidRequest("webhook body is not valid JSON", code="invalid_json") from exc
        if not isinstance(data, dict):
            raise InvalidRequest("webhook body must be a JSON object", code="invalid_json")
        event_id, payment_id, status = data.get("event_id"), data.get("payment_id"), data.get("status")
        if not isinstance(event_id, str) or not _EVENT_ID_RE.match(event_id):
            raise InvalidRequest("event_id must be a non-empty string")
        if not isinstance(payment_id, str):
            raise InvalidRequest("payment_id must be a string")
        try:
            payment_id = str(uuid.UUID(payment_id))
        except ValueError as exc:
            raise InvalidRequest("payment_id is not a valid payment id") from exc
        if status not in EVENT_STATUSES:
            raise InvalidRequest("status must be succeeded or failed")
        return cls(event_id, payment_id, status)
