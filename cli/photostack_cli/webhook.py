"""Play the simulated payment provider: sign a payment webhook the way the transactions API checks it.

The provider signs ``"<unix seconds>.<raw body>"`` with HMAC-SHA256 under the shared
secret and sends ``X-Photostack-Signature: t=<seconds>,v1=<hex>`` (see
``functions/transactions/transactions/webhooks.py``). Only the local stack's secret is
known to the CLI; against a real provider there is nothing to sign here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

SIGNATURE_HEADER = "X-Photostack-Signature"


def signed_payment_webhook(secret: str, payment_id: str, *, event_id: str, status: str = "succeeded",
                           now: float | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"event_id": event_id, "payment_id": payment_id, "status": status}).encode()
    ts = int(time.time() if now is None else now)
    signature = hmac.new(secret.encode(), str(ts).encode() + b"." + body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: f"t={ts},v1={signature}"}
