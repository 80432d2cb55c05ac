"""The local simulated provider played on the server for the web app (transactions.simulated_checkout):
it credits the caller's own pending top-up once, through the signed-webhook path, and nothing else."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from transactions.domain import TopupRequest
from transactions.errors import Missing, StateConflict
from transactions.simulated_checkout import confirm_own_topup

pytestmark = pytest.mark.integration


def started(world: Any, user: str, amount: int = 2000) -> str:
    return str(world.service.start_topup(user, world.key(), TopupRequest(amount, "EUR")).body["payment_id"])


def test_the_owner_confirms_a_pending_topup_once(world: Any) -> None:
    user = world.user()
    payment = started(world, user)
    outcome = confirm_own_topup(world.service, "local", user, payment)
    assert outcome.body == {"payment_id": payment, "status": "succeeded", "credited": True}
    assert world.balance(user) == 2000
    with pytest.raises(StateConflict):  # the same simulated event again is a replay
        confirm_own_topup(world.service, "local", user, payment)
    assert world.balance(user) == 2000


@pytest.mark.parametrize("env", ["staging", "production"])
def test_there_is_no_simulated_provider_outside_local(world: Any, env: str) -> None:
    user = world.user()
    payment = started(world, user)
    with pytest.raises(Missing):
        confirm_own_topup(world.service, env, user, payment)
    assert world.balance(user) == 0


def test_someone_elses_or_a_missing_or_malformed_payment_is_not_found(world: Any) -> None:
    owner, other = world.user(), world.user()
    payment = started(world, owner)
    for user, pid in ((other, payment), (owner, str(uuid.uuid4())), (owner, "not-a-uuid")):
        with pytest.raises(Missing):
            confirm_own_topup(world.service, "local", user, pid)
    assert world.balance(owner) == 0 and world.balance(other) == 0
