"""What an access token alone cannot show: a disabled account, or a token issued before
the account's role or password changed.

PostgreSQL is the record: ``users.users`` holds ``disabled`` and ``token_version``, and
every function may read them through the narrow view ``users.account_states`` (migration
``infra/db/users/0002``: id, disabled, token_version; no email, no hash). Redis only
caches it, with a short expiry:

- a read looks in this process's cache (2 s), then in Redis, and on a Redis miss reads
  PostgreSQL and fills Redis. A Redis restart, FLUSHALL or eviction therefore costs one
  PostgreSQL read per account, and can never re-enable a disabled account;
- while Redis is unreachable, reads go to PostgreSQL directly: signed-in requests keep
  working. Only when neither answers is the check a 503 (it fails closed);
- the users function writes PostgreSQL first, then the new state into Redis. Writes and
  fills are ordered by ``token_version`` (raised by every change), so a reader that read
  PostgreSQL just before a change cannot put the older state back over the newer one.
  If Redis is unreachable during a change, its entry (if any) may be older than the
  change for at most ``redis_ttl_s`` (30 s) after Redis is reachable again.

An account with no row (no account was ever created with that id, e.g. a token minted
with the shared key by a test) reads as "active, version 0", as before.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg2
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from photostack import errors
from photostack.config import get_settings
from photostack.db import Database
from photostack.jsonlog import get_logger
from photostack.tokens import Principal
from photostack.warm import WarmSlot

log = get_logger("account_status")

KEY_PREFIX = "photostack:account-state:"
REDIS_TTL_S = 30

# Store ARGV[1] ("<disabled>:<version>") under KEYS[1] for ARGV[3] seconds, unless the
# entry there already has a newer version (ARGV[2]): an older state never overwrites a newer one.
_SET_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local version = tonumber(string.match(current, ':(%d+)$') or '-1')
  if version > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[3]))
return 1
"""


@dataclass(frozen=True)
class AccountState:
    disabled: bool = False
    token_version: int = 0


class StateSource(Protocol):
    def read(self, user_id: str) -> AccountState:
        """The account's state from the record (raises errors.ServiceUnavailable if unreachable)."""


class PostgresAccountStates:
    """Reads ``users.account_states``. The users function passes its own pool; other
    functions get a one-connection pool of their own, opened at the first cache miss."""

    def __init__(self, db: Database | None = None, *, dsn: str | None = None) -> None:
        self._db = db
        self._dsn = dsn
        self._lock = threading.Lock()

    def _database(self) -> Database:
        with self._lock:
            if self._db is None:
                dsn = self._dsn or get_settings().database_url
                self._db = Database(dsn, minconn=0, maxconn=1, connect_timeout_s=2,
                                    statement_timeout_ms=2000)
            return self._db

    def read(self, user_id: str) -> AccountState:
        try:
            key = str(uuid.UUID(user_id))
        except ValueError:
            return AccountState()  # no account can have this id
        try:
            with self._database().cursor() as cur:
                cur.execute("SELECT disabled, token_version FROM users.account_states WHERE id = %s", (key,))
                row = cur.fetchone()
        except psycopg2.Error as exc:
            # Failing closed: a disabled account must not slip through while nothing can say.
            raise errors.ServiceUnavailable("cannot check the account status right now",
                                            code="account_status_unavailable") from exc
        if row is None:
            return AccountState()
        return AccountState(disabled=bool(row["disabled"]), token_version=int(row["token_version"]))


class AccountStatus:
    """Reads account states (process cache → Redis → PostgreSQL); the users function also
    publishes them after a change."""

    def __init__(self, client: Any, source: StateSource | None = None, *, cache_ttl_s: float = 2.0,
                 redis_ttl_s: int = REDIS_TTL_S, max_cached: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._redis = client
        self._source: StateSource = source if source is not None else PostgresAccountStates()
        self._ttl = cache_ttl_s
        self._redis_ttl = redis_ttl_s
        self._max = max_cached
        self._clock = clock
        self._cache: dict[str, tuple[float, AccountState]] = {}
        self._lock = threading.Lock()
        self._set_if_newer = client.register_script(_SET_IF_NEWER)

    def state(self, user_id: str) -> AccountState:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(user_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        redis_answered = True
        try:
            state = _decode(self._redis.get(KEY_PREFIX + user_id))
        except redis.RedisError as exc:
            log.warning("account status cache unreachable; reading PostgreSQL",
                        extra={"error": type(exc).__name__})
            state, redis_answered = None, False
        if state is None:
            state = self._source.read(user_id)
            if redis_answered:
                self._store(user_id, state)
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
        """Put a state just committed to PostgreSQL into the cache (best effort: a reader
        that misses reads PostgreSQL)."""
        with self._lock:
            self._cache.pop(user_id, None)
        self._store(user_id, state)

    def _store(self, user_id: str, state: AccountState) -> None:
        value = f"{1 if state.disabled else 0}:{state.token_version}"
        try:
            self._set_if_newer(keys=[KEY_PREFIX + user_id],
                               args=[value, state.token_version, self._redis_ttl])
        except redis.RedisError as exc:
            log.warning("could not cache an account status", extra={"error": type(exc).__name__})

    def ping(self) -> None:
        self._redis.ping()

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()


def _decode(raw: Any) -> AccountState | None:
    """The cached state, or None for a miss (or an entry this version cannot read)."""
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    disabled, _, version = text.partition(":")
    if disabled not in ("0", "1") or not version.isdigit():
        return None
    return AccountState(disabled=disabled == "1", token_version=int(version))


def request_redis(url: str) -> redis.Redis:
    """A Redis client for request paths: short timeouts and one immediate retry, because
    redis-py's default backoff would hold a request for seconds while Redis is away."""
    return redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0,
                                retry=Retry(NoBackoff(), 1), health_check_interval=30)


_default: WarmSlot[AccountStatus] = WarmSlot(
    "account status", lambda: AccountStatus(request_redis(get_settings().redis_url)))


def get_account_status() -> AccountStatus:
    """The process-wide reader, connected lazily to ``PHOTOSTACK_REDIS_URL`` and, on a
    cache miss, to ``PHOTOSTACK_DATABASE_URL``."""
    return _default.get()


def reset_account_status(status: AccountStatus | None = None) -> None:
    """Replace (or forget) the process-wide reader; tests and the users bootstrap use it."""
    _default.install(status)
