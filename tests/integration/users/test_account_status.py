"""The layer's account status against the real Redis: what every function's token check reads."""

from __future__ import annotations

import uuid

import pytest
import redis
from photostack import errors
from photostack.account_status import AccountState, AccountStatus, request_redis
from photostack.config import get_settings
from photostack.tokens import Principal

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def principal(user_id: str, version: int = 0) -> Principal:
    return Principal(user_id=user_id, role="customer", token_id="t", version=version)


def test_unknown_accounts_are_active() -> None:
    status = AccountStatus(redis.Redis.from_url(get_settings().redis_url))
    status.check(principal(str(uuid.uuid4())))


def test_disabled_and_revoked_versions_are_refused() -> None:
    client = redis.Redis.from_url(get_settings().redis_url)
    writer, reader = AccountStatus(client), AccountStatus(client)
    user_id = str(uuid.uuid4())
    writer.publish(user_id, AccountState(disabled=False, token_version=2))
    with pytest.raises(errors.Unauthorized) as exc:
        reader.check(principal(user_id, version=1))
    assert exc.value.code == "token_revoked"
    reader.check(principal(user_id, version=2))
    writer.publish(user_id, AccountState(disabled=True, token_version=3))
    reader.forget()
    with pytest.raises(errors.Unauthorized) as exc:
        reader.check(principal(user_id, version=3))
    assert exc.value.code == "account_disabled"
    client.delete("photostack:account:" + user_id)


def test_readers_cache_briefly_and_writers_see_their_own_change() -> None:
    client = redis.Redis.from_url(get_settings().redis_url)
    clock = Clock()
    other, local = AccountStatus(client, clock=clock), AccountStatus(client, cache_ttl_s=2.0, clock=clock)
    user_id = str(uuid.uuid4())
    local.check(principal(user_id))
    other.publish(user_id, AccountState(disabled=True))
    local.check(principal(user_id))  # another container's change: still cached here
    clock.now += 2.5
    with pytest.raises(errors.Unauthorized):
        local.check(principal(user_id))
    local.publish(user_id, AccountState(disabled=False))  # this container's change: seen at once
    local.check(principal(user_id))
    client.delete("photostack:account:" + user_id)


def test_an_unreachable_redis_fails_closed() -> None:
    status = AccountStatus(request_redis("redis://127.0.0.1:1/0"))
    with pytest.raises(errors.ServiceUnavailable):
        status.check(principal(str(uuid.uuid4())))
