"""What an access token alone cannot show: a disabled account, or a token issued before
the account's role changed.

The users function publishes one small Redis hash per account when an admin disables
it or changes its role (PostgreSQL stays the source of truth); every API function
reads it in :func:`photostack.http.authenticate`, so a disabled account is refused
everywhere without a call to the users function. Answers are cached per process for
a couple of seconds, which bounds how long a warm container may lag behind.

A missing hash means "active, version 0": accounts nobody ever changed cost one
Redis read per cache period and no storage.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from photostack import errors
from photostack.config import get_settings
from photostack.tokens import Principal
from photostack.warm import WarmSlot

KEY_PREFIX = "photostack:account:"


@dataclass(frozen=True)
class AccountState:
    disabled: bool = False
    token_version: int = 0


class AccountStatus:
    """Reads (and, for the users function, writes) account states in Redis."""

    def __init__(self, client: Any, *, cache_ttl_s: float = 2.0, max_cached: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._redis = client
        self._ttl = cache_ttl_s
        self._max = max_cached
        self._clock = clock
        self._cache: dict[str, tuple[float, AccountState]] = {}
        self._lock = threading.Lock()

    def state(self, user_id: str) -> AccountState:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(user_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            raw = self._redis.hgetall(KEY_PREFIX + user_id)
        except redis.RedisError as exc:
            # Failing closed: a disabled account must not slip through while Redis is away.
            raise errors.ServiceUnavailable("cannot check the account status right now",
                                            code="account_status_unavailable") from exc
        state = _decode(raw)
        with self._lock:
            if len(self._cache) >= self._max:
                self._cache.clear()
            self._cache[user_id] = (now + self._ttl, state)
        return state

    def check(self, principal: Principal) -> None:
        """401 when the account is disabled or the token predates its current version."""
        state = self.state(principal.user_id)
        if state.disabled:
            raise errors.Unauthorized("this account is disabled", code="account_disabled")
        if principal.version < state.token_version:
            raise errors.Unauthorized("this token was revoked; sign in again", code="token_revoked")

    def publish(self, user_id: str, state: AccountState) -> None:
        """Record the account's state for every function (raises redis.RedisError)."""
        self._redis.hset(KEY_PREFIX + user_id, mapping={
            "disabled": "1" if state.disabled else "0",
            "token_version": str(state.token_version),
        })
        with self._lock:
            self._cache.pop(user_id, None)

    def ping(self) -> None:
        self._redis.ping()

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _decode(raw: dict[Any, Any]) -> AccountState:
    fields = {_text(k): _text(v) for k, v in raw.items()}
    try:
        version = int(fields.get("token_version", "0"))
    except ValueError:
        version = 0
    return AccountState(disabled=fields.get("disabled") == "1", token_version=version)


def request_redis(url: str) -> redis.Redis:
    """A Redis client for request paths: short timeouts and one immediate retry, because
    redis-py's default backoff would hold a request for seconds while Redis is away."""
    return redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0,
                                retry=Retry(NoBackoff(), 1), health_check_interval=30)


_default: WarmSlot[AccountStatus] = WarmSlot(
    "account status", lambda: AccountStatus(request_redis(get_settings().redis_url)))


def get_account_status() -> AccountStatus:
    """The process-wide reader, connected lazily to ``PHOTOSTACK_REDIS_URL``."""
    return _default.get()


def reset_account_status(status: AccountStatus | None = None) -> None:
    """Replace (or forget) the process-wide reader; tests and the users bootstrap use it."""
    _default.install(status)
