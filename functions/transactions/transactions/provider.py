"""A simulated payment provider: it confirms top-ups by calling our signed webhook.

A top-up stays ``pending`` until the webhook arrives. Tests and the CLI use
this to play the provider:

    python -m transactions.provider --url http://.../webhooks/payments \\
        --payment-id <uuid> [--status failed]

The secret is the one the function reads: the stack's ``PaymentWebhookSecret`` in Secrets
Manager (``transactions.config.payment_webhook_secret()``; locally LocalStack's, found by name).
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.request
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

    def deliver(self, url: str, webhook: SignedWebhook, timeout_s: float = 10.0) -> tuple[int, bytes]:
        """POST the webhook; ``(status, body)`` whatever the status."""
        request = urllib.request.Request(  # noqa: S310 (the URL is the operator's own webhook endpoint)
            url, data=webhook.body, headers=webhook.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()


def main() -> None:
    from transactions.config import payment_webhook_secret

    parser = argparse.ArgumentParser(description="confirm or fail a pending top-up")
    parser.add_argument("--url", required=True, help="the POST /webhooks/payments URL")
    parser.add_argument("--payment-id", required=True)
    parser.add_argument("--status", choices=("succeeded", "failed"), default="succeeded")
    args = parser.parse_args()
    provider = SimulatedProvider(payment_webhook_secret())
    status, body = provider.deliver(args.url, provider.webhook(args.payment_id, args.status))
    print(status, body.decode(errors="replace"))


if __name__ == "__main__":
    main()
