"""Throttling of sign-in and registration: fixed-window counters, decided and counted atomically.

An attempt is admitted or refused in ONE step that also counts it: in Redis a Lua script
reads every counter of the attempt, refuses when one is at its limit, and otherwise
increments them all (EXPIRE starts each window). Nothing runs between the decision and
the count, so a burst of parallel guesses gets at most the limit through — checking first
and counting after the password check let a whole burst pass.

- Sign-in: counted per account (hashed email) and per client address. Every admitted
  attempt counts; a success clears the account's counter and gives its unit back to the
  address, so people who sign in correctly are never throttled by their own successes.
  Refused attempts are not counted, so a flood of refused guesses does not lengthen the
  window or fill a shared address's budget.
- Registration: counted per client address; every admitted attempt counts.

When Redis is unreachable the counters fall back to this process's memory
(:class:`MemoryCounters`): throttling keeps working, but per function environment, so
with N warm environments an attacker gets up to N times the limit until Redis is back.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import redis
from photostack.jsonlog import get_logger

from users.domain import LoginThrottled, RegistrationThrottled

log = get_logger("users.throttle")


@dataclass(frozen=True)
class Limit:
    key: str
    max: int


class Counters(Protocol):
    def take(self, limits: Sequence[Limit], window_s: int) -> int:
        """Count one attempt against every limit and answer 0; or, when one counter is at
        its limit, count nothing and answer the seconds until its window ends."""

    def give_back(self, key: str) -> None:
        """Undo one unit of ``key`` (never below zero)."""

    def clear(self, key: str) -> None: ...


# KEYS: the counters; ARGV[1]: the window (s); ARGV[1 + i]: the limit of KEYS[i].
_TAKE = """
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local n = tonumber(redis.call('GET', key) or '0')
  if n >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('TTL', key)
    if ttl < 0 then
      redis.call('EXPIRE', key, window)
      ttl = window
    end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 or redis.call('TTL', key) < 0 then
    redis.call('EXPIRE', key, window)
  end
end
return 0
"""

_GIVE_BACK = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return n
"""


class RedisCounters:
    """Counters in Redis (raises redis.RedisError when it is unreachable)."""

    def __init__(self, client: Any) -> None:
        self._redis = client
        self._take = client.register_script(_TAKE)
        self._give_back = client.register_script(_GIVE_BACK)

    def take(self, limits: Sequence[Limit], window_s: int) -> int:
        wait = self._take(keys=[limit.key for limit in limits],
                          args=[window_s, *[limit.max for limit in limits]])
        return int(wait)

    def give_back(self, key: str) -> None:
        self._give_back(keys=[key])

    def clear(self, key: str) -> None:
        self._redis.delete(key)


class MemoryCounters:
    """The same counters in this process, for when Redis is away. Bounded: past ``max_keys``
    the windows that started first (those nearest their end) are dropped."""

    def __init__(self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._counts: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (count, window end)
        self._max = max_keys
        self._clock = clock
        self._lock = threading.Lock()

    def _current(self, key: str, now: float) -> tuple[int, float]:
        count, end = self._counts.get(key, (0, now))
        return (count, end) if end > now else (0, now)

    def take(self, limits: Sequence[Limit], window_s: int) -> int:
        with self._lock:
            now = self._clock()
            wait = 0
            for limit in limits:
                count, end = self._current(limit.key, now)
                if count >= limit.max:
                    wait = max(wait, math.ceil(end - now))
            if wait:
                return wait
            for limit in limits:
                count, end = self._current(limit.key, now)
                if count == 0:
                    self._counts.pop(limit.key, None)
                    self._counts[limit.key] = (1, now + window_s)  # a new window goes to the end
                else:
                    self._counts[limit.key] = (count + 1, end)
            while len(self._counts) > self._max:
                self._counts.popitem(last=False)
            return 0

    def give_back(self, key: str) -> None:
        with self._lock:
            count, end = self._current(key, self._clock())
            if count > 0:
                self._counts[key] = (count - 1, end)

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)


class FallbackCounters:
    """Redis counters, or this process's own while Redis is unreachable."""

    def __init__(self, primary: Counters, fallback: Counters) -> None:
        self._primary = primary
        self._fallback = fallback

    def take(self, limits: Sequence[Limit], window_s: int) -> int:
        try:
            return self._primary.take(limits, window_s)
        except redis.RedisError as exc:
            log.warning("throttle counters fall back to memory", extra={"error": type(exc).__name__})
            return self._fallback.take(limits, window_s)

    def give_back(self, key: str) -> None:
        try:
            self._primary.give_back(key)
        except redis.RedisError:
            self._fallback.give_back(key)

    def clear(self, key: str) -> None:
        try:
            self._primary.clear(key)
        except redis.RedisError:
            self._fallback.clear(key)


def resilient_counters(client: Any) -> FallbackCounters:
    return FallbackCounters(RedisCounters(client), MemoryCounters())


class Throttle:
    def __init__(self, counters: Counters, *, max_login_per_account: int, max_login_per_ip: int,
                 login_window_s: int, max_registrations_per_ip: int, registration_window_s: int,
                 prefix: str = "photostack:users:") -> None:
        self._counters = counters
        self._max_account = max_login_per_account
        self._max_ip = max_login_per_ip
        self._login_window = login_window_s
        self._max_registrations = max_registrations_per_ip
        self._registration_window = registration_window_s
        self._prefix = prefix

    def _login_keys(self, email_key: str, client_ip: str) -> tuple[str, str]:
        # Hashed so that Redis never holds email addresses.
        account = hashlib.sha256(email_key.encode()).hexdigest()[:32]
        return f"{self._prefix}login:acct:{account}", f"{self._prefix}login:ip:{client_ip}"

    def login_attempt(self, email_key: str, client_ip: str) -> None:
        """Count a sign-in attempt, or raise LoginThrottled (nothing counted)."""
        account_key, ip_key = self._login_keys(email_key, client_ip)
        wait = self._counters.take([Limit(account_key, self._max_account), Limit(ip_key, self._max_ip)],
                                   self._login_window)
        if wait:
            raise LoginThrottled(wait)

    def login_succeeded(self, email_key: str, client_ip: str) -> None:
        account_key, ip_key = self._login_keys(email_key, client_ip)
        try:
            self._counters.clear(account_key)
            self._counters.give_back(ip_key)
        except redis.RedisError:
            # The counters expire on their own; a correct sign-in must not fail because of them.
            log.warning("could not clear the sign-in counters")

    def registration_attempt(self, client_ip: str) -> None:
        """Count a registration from this address, or raise RegistrationThrottled."""
        wait = self._counters.take([Limit(f"{self._prefix}register:ip:{client_ip}", self._max_registrations)],
                                   self._registration_window)
        if wait:
            raise RegistrationThrottled(wait)
