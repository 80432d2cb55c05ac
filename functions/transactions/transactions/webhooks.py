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
from typing import Protocol

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


class SecretSource(Protocol):
    """Where the verifier gets the webhook secret: the current value, re-read as the source decides."""

    def current(self) -> str: ...

    def refresh_after_mismatch(self) -> bool:
        """Re-read the secret for a signature that did not match, if the source's budget allows;
        True if a different secret is now current (worth checking the signature again)."""
        ...


class FixedSecret:
    """A secret that never rotates (tests, benches)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def current(self) -> str:
        return self._secret

    def refresh_after_mismatch(self) -> bool:
        return False


def _signed_parts(header: str | None, *, now: float | None, tolerance_s: int) -> tuple[int, list[str]]:
    """The signed timestamp and the ``v1`` candidates, or :class:`WebhookRejected` (malformed, stale)."""
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
    return timestamp, candidates


def _matches(secret: str, body: bytes, timestamp: int, candidates: list[str]) -> bool:
    expected = sign(secret, body, timestamp)
    # Every candidate is compared, so timing says nothing about which one failed.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate)
    return matched


def verify(secret: str, header: str | None, body: bytes, *, now: float | None = None,
           tolerance_s: int = TOLERANCE_S) -> int:
    """The signed timestamp, or :class:`WebhookRejected`."""
    timestamp, candidates = _signed_parts(header, now=now, tolerance_s=tolerance_s)
    if not _matches(secret, body, timestamp, candidates):
        raise WebhookRejected("signature does not match")
    return timestamp


def verify_current(secrets: SecretSource, header: str | None, body: bytes, *, now: float | None = None,
                   tolerance_s: int = TOLERANCE_S) -> int:
    """:func:`verify` under the source's current secret.

    A well-formed, timely signature that does not match may mean the secret was rotated since the
    source last read it, so the source is asked to re-read once; it bounds how often that happens,
    so forged signatures cannot drive reads of the secret store.
    """
    timestamp, candidates = _signed_parts(header, now=now, tolerance_s=tolerance_s)
    if _matches(secrets.current(), body, timestamp, candidates):
        return timestamp
    if secrets.refresh_after_mismatch() and _matches(secrets.current(), body, timestamp, candidates):
        return timestamp
    raise WebhookRejected("signature does not match")


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
