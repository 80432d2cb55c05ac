"""The face search limit on the real Redis: counted and decided in one atomic step, per account
and per client address, with a Retry-After, and closed (503) when Redis is away."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from photos import errors
from photos.face_search_limit import FaceSearchLimit, Limits
from photos.web import ERRORS

pytestmark = pytest.mark.integration


def fresh(redis_client: redis.Redis, **limits: int) -> FaceSearchLimit:
    # A prefix per test: counters of other tests and runs never meet these.
    return FaceSearchLimit(redis_client, Limits(**limits), prefix=f"test:faces:{uuid.uuid4().hex}:")


def attempt(limit: FaceSearchLimit, user: str, ip: str) -> int:
    try:
        limit.check(user, ip)
    except errors.Throttled as exc:
        answer = ERRORS.to_api_error(exc)  # what the route answers
        assert answer.status == 429 and answer.code == "rate_limited"
        assert answer.body()["error"]["message"].startswith("too many face searches")
        return int(answer.headers["Retry-After"])
    return 0


def test_a_parallel_burst_lets_exactly_the_limit_through(redis_client: redis.Redis) -> None:
    limit = fresh(redis_client, per_account=10, per_ip=1000, window_s=60)
    with ThreadPoolExecutor(16) as pool:
        waits = list(pool.map(lambda _: attempt(limit, "burst-user", "203.0.113.7"), range(50)))
    assert waits.count(0) == 10
    assert all(1 <= w <= 60 for w in waits if w)


def test_the_address_is_limited_across_accounts(redis_client: redis.Redis) -> None:
    limit = fresh(redis_client, per_account=100, per_ip=5, window_s=60)
    waits = [attempt(limit, f"user-{i}", "198.51.100.9") for i in range(7)]
    assert waits[:5] == [0] * 5 and all(w > 0 for w in waits[5:])
    assert attempt(limit, "user-0", "198.51.100.10") == 0  # another address still gets through


def test_the_window_ends(redis_client: redis.Redis) -> None:
    limit = fresh(redis_client, per_account=2, per_ip=100, window_s=1)
    assert [attempt(limit, "u", "192.0.2.1") for _ in range(3)][:2] == [0, 0]
    assert attempt(limit, "u", "192.0.2.1") == 1
    time.sleep(2.1)
    assert attempt(limit, "u", "192.0.2.1") == 0


def test_without_redis_it_is_closed_not_open() -> None:
    gone = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, socket_timeout=0.5)
    with pytest.raises(errors.Unavailable) as refused:
        FaceSearchLimit(gone, Limits()).check("u", "192.0.2.2")
    answer = ERRORS.to_api_error(refused.value)
    assert answer.status == 503 and answer.code == "rate_limit_unavailable"
