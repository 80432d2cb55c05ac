"""The payment provider, played by tests and benches. The webhook is the product's own: the CLI's
signer (``photostack_cli.webhook``, what ``photostack wallet topup`` sends; HMAC-SHA256 over
``"<timestamp>.<raw body>"`` as ``transactions.webhooks`` verifies it), so the tests exercise what
operators run and there is one copy of the signing. The local stack's in-product stand-in for the
web app is ``transactions.simulated_checkout``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from photostack_cli.webhook import signed_payment_webhook


@dataclass(frozen=True)
class SignedWebhook:
    body: bytes
    headers: dict[str, str]


class SimulatedProvider:
    def __init__(self, secret: str) -> None:
        self._secret = secret

    def webhook(self, payment_id: str, status: str = "succeeded", *, event_id: str | None = None,
                timestamp: int | None = None) -> SignedWebhook:
        body, headers = signed_payment_webhook(self._secret, payment_id, status=status,
                                               event_id=event_id or f"evt_{uuid.uuid4().hex}",
                                               now=timestamp)
        return SignedWebhook(body, headers)
