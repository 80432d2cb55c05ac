"""Top-ups and the provider's webhook: credited exactly once, forgeries change nothing."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from transactions.domain import TopupRequest
from transactions.errors import IdempotencyKeyReused, Missing, StateConflict, WebhookRejected
from transactions.webhooks import signature_header

pytestmark = pytest.mark.integration


def test_topup_stays_pending_until_the_webhook_credits_it_once(world: Any) -> None:
    user = world.user()
    started = world.service.start_topup(user, world.key(), TopupRequest(2500, "EUR"))
    assert started.status == 201 and started.body["status"] == "pending"
    assert world.balance(user) == 0

    result = world.confirm(started.body["payment_id"])
    assert result == {"payment_id": started.body["payment_id"], "status": "succeeded", "credited": True}
    assert world.balance(user) == 2500

    # The provider retrying with a new event id is harmless.
    again = world.confirm(started.body["payment_id"])
    assert again["credited"] is False
    assert world.balance(user) == 2500


def test_replayed_event_id_is_rejected(world: Any) -> None:
    user = world.user()
    payment = world.service.start_topup(user, world.key(), TopupRequest(700, "EUR")).body["payment_id"]
    hook = world.provider.webhook(payment, event_id="evt-replay-" + payment)
    world.service.handle_payment_webhook(hook.headers["X-Photostack-Signature"], hook.body)
    before = world.footprint(user)
    with pytest.raises(StateConflict) as caught:
        world.service.handle_payment_webhook(hook.headers["X-Photostack-Signature"], hook.body)
    assert caught.value.code == "replayed_event"
    assert world.footprint(user) == before
    assert world.balance(user) == 700


@pytest.mark.parametrize("tamper", ["stale", "forged", "body", "missing"])
def test_bad_signatures_change_nothing(world: Any, tamper: str) -> None:
    user = world.user()
    payment = world.service.start_topup(user, world.key(), TopupRequest(900, "EUR")).body["payment_id"]
    hook = world.provider.webhook(payment)
    header: str | None = hook.headers["X-Photostack-Signature"]
    body = hook.body
    if tamper == "stale":
        header = signature_header(world.service.webhook_secret, body, int(time.time()) - 301)
    elif tamper == "forged":
        header = signature_header("not-the-shared-secret-at-all-0123456", body)
    elif tamper == "body":
        body = body.replace(b"succeeded", b"failed")
    else:
        header = None
    before = world.footprint(user)
    with pytest.raises(WebhookRejected):
        world.service.handle_payment_webhook(header, body)
    assert world.footprint(user) == before
    with world.service.db.cursor() as cur:
        cur.execute("SELECT status FROM payments WHERE id = %s", (payment,))
        assert cur.fetchone()["status"] == "pending"


def test_failed_payment_credits_nothing_and_cannot_succeed_later(world: Any) -> None:
    user = world.user()
    payment = world.service.start_topup(user, world.key(), TopupRequest(900, "EUR")).body["payment_id"]
    assert world.confirm(payment, "failed") == {"payment_id": payment, "status": "failed", "credited": False}
    with pytest.raises(StateConflict):
        world.confirm(payment, "succeeded")
    assert world.balance(user) == 0


def test_webhook_for_unknown_payment_is_404(world: Any) -> None:
    with pytest.raises(Missing):
        world.confirm("00000000-0000-4000-8000-000000000000")


def test_topup_idempotency(world: Any) -> None:
    user, key = world.user(), world.key()
    first = world.service.start_topup(user, key, TopupRequest(100, "EUR"))
    again = world.service.start_topup(user, key, TopupRequest(100, "EUR"))
    assert again.replayed and again.body["payment_id"] == first.body["payment_id"]
    with pytest.raises(IdempotencyKeyReused):
        world.service.start_topup(user, key, TopupRequest(200, "EUR"))
    # Keys belong to one user: another user's same key is a new payment.
    other = world.service.start_topup(world.user(), key, TopupRequest(100, "EUR"))
    assert other.body["payment_id"] != first.body["payment_id"]
    assert json.loads(json.dumps(first.body))["status"] == "pending"
