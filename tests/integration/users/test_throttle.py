"""Throttling against the real users service and the real Redis: parallel bursts get at most
the limit through, registrations are limited per address, and a Redis outage falls back to
per-environment counters instead of failing sign-in."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from photostack.account_status import AccountStatus, PostgresAccountStates, request_redis
from users import bootstrap, domain
from users.domain import Credentials
from users.services import UsersService
from users.throttle import Limit, RedisCounters, Throttle, resilient_counters

from tests.integration.users.conftest import FAST, PASSWORD, OwnRedis

pytestmark = pytest.mark.integration

Api = Any
BURST = 50
LIMIT = 10


def burst(n: int, attempt: Callable[[int], None]) -> Counter[str]:
    """Run ``attempt`` in n threads released together; count the outcomes by exception name."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        try:
            attempt(i)
            name = "ok"
        except domain.UsersError as exc:
            name = exc.code
        with lock:
            outcomes[name] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.fixture
def limited(service: UsersService) -> Iterator[UsersService]:
    """The service with the production limits per account (10) and a roomy per-address one."""
    settings = dataclasses.replace(FAST, login_max_failures_per_account=LIMIT, login_max_failures_per_ip=1000)
    svc = bootstrap.build(settings)
    yield svc
    svc._db.close()


def test_fifty_parallel_wrong_passwords_get_at_most_the_limit_through(api: Api,
                                                                    limited: UsersService) -> None:
    user = api.register()
    ip = f"198.51.100.{uuid.uuid4().int % 250}"
    outcomes = burst(BURST, lambda _: limited.login(Credentials(user["email"], "wrong guess!"), ip))
    # Exactly the limit were checked against the password; every other guess was refused unseen.
    assert outcomes == {"invalid_credentials": LIMIT, "too_many_attempts": BURST - LIMIT}, outcomes
    # Locked now, even with the right password.
    with pytest.raises(domain.LoginThrottled):
        limited.login(Credentials(user["email"], PASSWORD), ip)


def test_a_burst_across_accounts_from_one_address_is_bounded_too(api: Api, service: UsersService) -> None:
    settings = dataclasses.replace(FAST, login_max_failures_per_account=1000, login_max_failures_per_ip=LIMIT)
    svc = bootstrap.build(settings)
    try:
        ip = f"198.51.100.{uuid.uuid4().int % 250}"
        outcomes = burst(BURST, lambda i: svc.login(Credentials(f"spray-{i}-{uuid.uuid4().hex}@example.com",
                                                                "wrong guess!"), ip))
        assert outcomes == {"invalid_credentials": LIMIT, "too_many_attempts": BURST - LIMIT}, outcomes
    finally:
        svc._db.close()


def test_correct_sign_ins_are_never_throttled_by_their_own_count(api: Api, limited: UsersService) -> None:
    user = api.register()
    for _ in range(3 * LIMIT):  # each success clears the account's counter and gives the address its unit
        limited.login(Credentials(user["email"], PASSWORD), "198.51.100.77")
    # Attempts in flight count until they succeed: up to the limit may sign in at the same moment.
    assert burst(LIMIT, lambda _: limited.login(Credentials(user["email"], PASSWORD), "198.51.100.77")) \
        == {"ok": LIMIT}


def test_registrations_are_limited_per_address(api: Api) -> None:
    for _ in range(FAST.registrations_per_ip):
        api.register()
    refused = api.post("/auth/register", {"email": f"one-more-{uuid.uuid4().hex[:8]}@example.com",
                                          "password": PASSWORD, "display_name": "X", "role": "customer"})
    assert refused.status == 429 and refused.body["error"]["code"] == "too_many_registrations"
    assert 1 <= int(refused.headers["retry-after"]) <= FAST.registration_window_s


def test_parallel_registrations_from_one_address_get_at_most_the_limit(service: UsersService) -> None:
    svc = bootstrap.build(dataclasses.replace(FAST, registrations_per_ip=5))
    try:
        ip = f"203.0.113.{uuid.uuid4().int % 250}"

        def register(i: int) -> None:
            svc.register(domain.Registration(email=f"burst-{i}-{uuid.uuid4().hex[:8]}@example.com",
                                             password=PASSWORD, display_name="B", role="customer"), ip)

        assert burst(20, register) == {"ok": 5, "too_many_registrations": 15}
        # Another address is not affected.
        register_from_elsewhere = domain.Registration(email=f"else-{uuid.uuid4().hex[:8]}@example.com",
                                                      password=PASSWORD, display_name="B", role="customer")
        svc.register(register_from_elsewhere, ip + "1")
    finally:
        svc._db.close()


def test_the_redis_script_decides_and_counts_in_one_step(redis_client: Any) -> None:
    """At the counter level: 50 parallel takes against the real Redis, limit 10 -> 10 admitted,
    and the refused ones counted nothing (the counter stays at the limit)."""
    counters = RedisCounters(redis_client)
    key = f"photostack:test:throttle:{uuid.uuid4().hex}"
    results: list[int] = []
    barrier = threading.Barrier(BURST)

    def take() -> None:
        barrier.wait()
        results.append(counters.take([Limit(key, LIMIT)], 60))

    threads = [threading.Thread(target=take) for _ in range(BURST)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(0) == LIMIT
    assert all(0 < wait <= 60 for wait in results if wait)
    assert int(redis_client.get(key)) == LIMIT and 0 < redis_client.ttl(key) <= 60
    redis_client.delete(key)


def test_with_redis_down_sign_in_is_throttled_per_environment(api: Api, service: UsersService,
                                                              own_redis: OwnRedis) -> None:
    """Redis stopped: logins keep working and a burst is still bounded, by this process's counters."""
    user = api.register()
    own_redis.stop()
    client = request_redis(own_redis.url)
    svc = UsersService(service._db, service._passwords,
                       Throttle(resilient_counters(client), max_login_per_account=LIMIT,
                                max_login_per_ip=1000, login_window_s=60, max_registrations_per_ip=5,
                                registration_window_s=60),
                       AccountStatus(client, PostgresAccountStates(service._db)),
                       refresh_ttl_s=3600, refresh_session_max_s=86400)
    assert svc.health() == ["redis"]
    tokens = svc.login(Credentials(user["email"], PASSWORD), "198.51.100.9")
    assert tokens.user.id == user["id"]
    outcomes = burst(BURST, lambda _: svc.login(Credentials(user["email"], "wrong guess!"), "198.51.100.9"))
    assert outcomes == {"invalid_credentials": LIMIT, "too_many_attempts": BURST - LIMIT}, outcomes
