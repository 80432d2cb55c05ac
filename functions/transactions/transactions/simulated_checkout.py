"""The local stack's simulated payment provider, played on the server for the web app.

A person's browser must never hold the webhook secret, yet on a local stack there is no real
provider to confirm a top-up. So, on local stacks only, the owner of a pending top-up may ask
the server to play the provider: it signs the provider's webhook with the stack's own secret
and hands it to the same path a real webhook takes (signature check, replay guard, ledger
entry). Anywhere but ``PHOTOSTACK_ENV=local`` the route answers 404: a real deployment credits
wallets only from its provider.
"""

from __future__ import annotations

import json
import uuid

from photostack.config import LOCAL_ENV

from transactions import repository as repo
from transactions import webhooks
from transactions.errors import Missing
from transactions.services import Outcome, TransactionsService


def confirm_own_topup(service: TransactionsService, env: str, user_id: str, payment_id: str) -> Outcome:
    if env != LOCAL_ENV:
        raise Missing("there is no simulated payment provider on this stack", code="not_found")
    try:
        payment_id = str(uuid.UUID(payment_id))
    except ValueError as exc:
        raise Missing("payment not found", code="payment_not_found") from exc
    with service.db.cursor() as cur:
        payment = repo.payment(cur, payment_id)
    # Someone else's payment looks exactly like a missing one.
    if payment is None or str(payment["user_id"]) != user_id:
        raise Missing("payment not found", code="payment_not_found")
    # One event id per payment: asking twice is a replay the webhook path refuses (409).
    body = json.dumps({"event_id": f"simulated_{payment_id}", "payment_id": payment_id,
                       "status": "succeeded"}).encode()
    signature = webhooks.signature_header(service.webhook_secret, body, int(service.clock()))
    return service.handle_payment_webhook(signature, body)
