"""The payment provider, played by tests and benches: it signs webhooks the way the real provider
does (``transactions.webhooks``: HMAC-SHA256 over ``"<timestamp>.<raw body>"``). Test code, so it
is not shipped with the function; the local stack's in-product stand-in for the web app is
``transactions.simulated_checkout``, and operators confirm a top-up with the CLI
(``photostack wallet topup``)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

from transactions.webhooks import SIGNATURE_HEADER, signature_header


@dataclass(frozen=True)
class SignedWebhook:
    body: bytes
    headers: dict[str, str]


class SimulatedProvider:
    def __init__(self, secret: str) -> None:
        self._secret = secret

    def webhook(self, payment_id: str, status: str = "succeeded", *, event_id: str | None = None,
                timestamp: int | None = None) -> SignedWebhook:
        body = json.dumps({
            "event_id": event_id or f"evt_{uuid.uuid4().hex}",
            "payment_id": payment_id,
            "status": status,
        }).encode()
        ts = int(time.time()) if timestamp is None else timestamp
        return SignedWebhook(body, {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(self._secret, body, ts),
        })
