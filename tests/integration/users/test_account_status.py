"""Account status (disabled, token version): PostgreSQL is the record, Redis a cache.

Against the real PostgreSQL and Redis. The tests that flush, stop or restart Redis do it
to a redis-server of their own (``own_redis``), never to the shared one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
import redis
from photostack import errors
from photostack.account_status import (
    KEY_PREFIX,
    AccountState,
    AccountStatus,
    PostgresAccountStates,
    request_redis,
)
from photostack.config import get_settings, reset_settings
from photostack.tokens import Principal
from users import bootstrap
from users.services import UsersService

from tests.fake_clock import Clock
from tests.integration.users.conftest import FAST, OwnRedis

pytestmark = pytest.mark.integration

Api = Any


def principal(user_id: str, version: int = 0) -> Principal:
    return Principal(user_id=user_id, role="customer", token_id="t", version=version)


def bearer(tokens: dict[str, Any]) -> str:
    return str(tokens["access_token"])


def set_disabled(api: Api, admin_tokens: dict[str, Any], user_id: str, disabled: bool) -> None:
    r = api.patch(f"/admin/users/{user_id}", {"disabled": disabled}, token=bearer(admin_tokens))
    assert r.status == 200, r.body


def test_accounts_without_a_row_are_active(users_schema: None) -> None:
    status = AccountStatus(redis.Redis.from_url(get_settings().redis_url))
    status.check(principal(str(uuid.uuid4())))
    status.check(principal("bench-viewer"))  # not even a UUID: no account can have it


def test_disabled_and_revoked_versions_are_refused(users_schema: None) -> None:
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
    client.delete(KEY_PREFIX + user_id)


def test_readers_cache_briefly_and_writers_see_their_own_change(users_schema: None) -> None:
    client = redis.Redis.from_url(get_settings().redis_url)
    clock = Clock(1000.0)
    other, local = AccountStatus(client, clock=clock), AccountStatus(client, cache_ttl_s=2.0, clock=clock)
    user_id = str(uuid.uuid4())
    local.check(principal(user_id))
    other.publish(user_id, AccountState(disabled=True, token_version=1))
    local.check(principal(user_id))  # another container's change: still cached here
    clock.now += 2.5
    with pytest.raises(errors.Unauthorized):
        local.check(principal(user_id))
    local.publish(user_id, AccountState(disabled=False, token_version=2))  # this container's: seen at once
    local.check(principal(user_id, version=2))
    client.delete(KEY_PREFIX + user_id)


def test_an_older_state_never_overwrites_a_newer_one_in_the_cache(users_schema: None) -> None:
    """A reader that read PostgreSQL just before a change must not put the old state back."""
    client = redis.Redis.from_url(get_settings().redis_url)
    status = AccountStatus(client)
    user_id = str(uuid.uuid4())
    status.publish(user_id, AccountState(disabled=True, token_version=5))
    status.publish(user_id, AccountState(disabled=False, token_version=4))  # late, older
    assert client.get(KEY_PREFIX + user_id) == b"1:5"
    assert 0 < client.ttl(KEY_PREFIX + user_id) <= 30  # a cache entry, never a record
    client.delete(KEY_PREFIX + user_id)


@pytest.fixture
def on_own_redis(api: Api, own_redis: OwnRedis, monkeypatch: pytest.MonkeyPatch) -> Iterator[UsersService]:
    """The users function (its throttle and account status) on a Redis of this test's own."""
    monkeypatch.setenv("PHOTOSTACK_REDIS_URL", own_redis.url)
    reset_settings()
    svc = bootstrap.build(FAST)
    bootstrap.reset(svc)
    yield svc
    bootstrap.reset(None)
    svc._db.close()


def test_a_flushed_or_restarted_redis_never_re_enables_a_disabled_account(
        api: Api, on_own_redis: UsersService, own_redis: OwnRedis) -> None:
    admin = api.register()
    on_own_redis.grant_role(admin["email"], "admin")
    admin_tokens = api.login(admin["email"])
    user = api.register()
    tokens = api.login(user["email"])
    assert api.get("/users/me", token=bearer(tokens)).status == 200
    set_disabled(api, admin_tokens, user["id"], True)

    own_redis.client.flushall()
    on_own_redis._status.forget()  # and this process's 2 s cache
    me = api.get("/users/me", token=bearer(tokens))
    assert me.status == 401 and me.body["error"]["code"] == "account_disabled"
    assert own_redis.client.get(KEY_PREFIX + user["id"]) == b"1:1"  # the miss refilled the cache

    own_redis.stop()
    own_redis.start()  # empty again, as after a restart without persistence
    on_own_redis._status.forget()
    me = api.get("/users/me", token=bearer(tokens))
    assert me.status == 401 and me.body["error"]["code"] == "account_disabled"


def test_with_redis_stopped_signed_in_reads_keep_working(api: Api, on_own_redis: UsersService,
                                                         own_redis: OwnRedis) -> None:
    admin = api.register()
    on_own_redis.grant_role(admin["email"], "admin")
    admin_tokens = api.login(admin["email"])
    user, other = api.register(), api.register()
    tokens, other_tokens = api.login(user["email"]), api.login(other["email"])
    set_disabled(api, admin_tokens, other["id"], True)

    own_redis.stop()
    on_own_redis._status.forget()
    me = api.get("/users/me", token=bearer(tokens))
    assert me.status == 200 and me.body["id"] == user["id"]
    # Still fails closed for the disabled account: PostgreSQL says so.
    refused = api.get("/users/me", token=bearer(other_tokens))
    assert refused.status == 401 and refused.body["error"]["code"] == "account_disabled"
    # Sign-in, refresh and admin changes work too; health says what is degraded.
    again = api.login(user["email"])
    assert api.post("/auth/refresh", {"refresh_token": again["refresh_token"]}).status == 200
    set_disabled(api, admin_tokens, other["id"], False)
    on_own_redis._status.forget()
    assert api.get("/users/me", token=bearer(api.login(other["email"]))).status == 200
    health = api.get("/health")
    assert health.status == 200 and health.body["degraded"] == ["redis"]


def test_other_functions_read_the_record_through_their_own_pool(api: Api, admin: dict[str, Any],
                                                               own_redis: OwnRedis) -> None:
    """What the photos and transactions functions do: a reader built from settings alone."""
    user = api.register()
    assert api.patch(f"/admin/users/{user['id']}", {"disabled": True}, token=bearer(admin)).status == 200
    reader = AccountStatus(own_redis.client)  # an empty cache: the answer can only come from PostgreSQL
    with pytest.raises(errors.Unauthorized) as exc:
        reader.check(principal(user["id"], version=1))
    assert exc.value.code == "account_disabled"
    own_redis.stop()
    stopped = AccountStatus(request_redis(own_redis.url))
    with pytest.raises(errors.Unauthorized):
        stopped.check(principal(user["id"], version=1))


def test_with_neither_redis_nor_postgres_it_fails_closed() -> None:
    status = AccountStatus(request_redis("redis://127.0.0.1:1/0"),
                           PostgresAccountStates(dsn="postgresql://photostack:photostack@127.0.0.1:1/photostack"))
    with pytest.raises(errors.ServiceUnavailable) as exc:
        status.check(principal(str(uuid.uuid4())))
    assert exc.value.code == "account_status_unavailable"


def test_the_view_other_functions_read_holds_the_status_and_nothing_else(users_schema: None,
                                                                       database_url: str) -> None:
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'users'"
                        " AND table_name = 'account_states' ORDER BY ordinal_position")
            assert [r[0] for r in cur.fetchall()] == ["id", "disabled", "token_version"]
    finally:
        conn.close()
