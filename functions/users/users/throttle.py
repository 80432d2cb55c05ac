"""Login throttling in Redis: failed attempts counted per account and per client address.

Fixed windows (INCR + EXPIRE) are enough here: the point is to make online guessing
slow, not to shape traffic. Only failures count, so a user who signs in correctly
is never throttled by their own successes; a success clears the account's counter.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

import redis

from users.domain import DependencyUnavailable, LoginThrottled


class LoginThrottle:
    def __init__(self, client: Any, *, max_per_account: int, max_per_ip: int, window_s: int,
                 prefix: str = "photostack:users:login:") -> None:
        self._redis = client
        self._max_account = max_per_account
        self._max_ip = max_per_ip
        self._window = window_s
        self._prefix = prefix

    def _keys(self, email_key: str, client_ip: str) -> tuple[str, str]:
        # Hashed so that Redis never holds email addresses.
        account = hashlib.sha256(email_key.encode()).hexdigest()[:32]
        return f"{self._prefix}acct:{account}", f"{self._prefix}ip:{client_ip}"

    def check(self, email_key: str, client_ip: str) -> None:
        """Raise LoginThrottled while either counter is at its limit."""
        account_key, ip_key = self._keys(email_key, client_ip)
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.get(account_key).ttl(account_key).get(ip_key).ttl(ip_key)
            account_n, account_ttl, ip_n, ip_ttl = pipe.execute()
        except redis.RedisError as exc:
            raise DependencyUnavailable("sign-in is unavailable right now") from exc
        waits = []
        if account_n is not None and int(account_n) >= self._max_account:
            waits.append(account_ttl if account_ttl and account_ttl > 0 else self._window)
        if ip_n is not None and int(ip_n) >= self._max_ip:
            waits.append(ip_ttl if ip_ttl and ip_ttl > 0 else self._window)
        if waits:
            raise LoginThrottled(max(waits))

    def record_failure(self, email_key: str, client_ip: str) -> None:
        try:
            pipe = self._redis.pipeline(transaction=True)
            for key in self._keys(email_key, client_ip):
                pipe.incr(key)
                pipe.expire(key, self._window, nx=True)
            pipe.execute()
        except redis.RedisError as exc:
            raise DependencyUnavailable("sign-in is unavailable right now") from exc

    def record_success(self, email_key: str, client_ip: str) -> None:
        # The counter expires on its own; a successful sign-in must not fail because of it.
        with contextlib.suppress(redis.RedisError):
            self._redis.delete(self._keys(email_key, client_ip)[0])
