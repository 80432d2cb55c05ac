"""How often one account and one client address may run a face search: fixed windows in Redis.

A face search runs the face models (CPU) and, repeated with many faces, probes who appears in
which event; the limit bounds both. One Lua script counts and decides in a single atomic Redis
step, so a burst of parallel searches cannot all pass before the counters catch up: each request
gets its own count, and exactly the first `limit` of a window pass. Refused requests count too
(hammering does not earn more tries). Checked before the selfie is decoded or the models run.

Settings (environment, read once when the limiter is built, i.e. at cold start):
  PHOTOSTACK_FACE_SEARCH_PER_ACCOUNT   searches per account per window (default 30)
  PHOTOSTACK_FACE_SEARCH_PER_IP        searches per client address per window (default 300: a
                                       whole office or mobile carrier may share one address)
  PHOTOSTACK_FACE_SEARCH_WINDOW_S      the window, in seconds (default 60)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis
from photostack.account_status import request_redis
from photostack.config import env_int, get_settings
from photostack.warm import WarmSlot

from photos import errors as e

# KEYS: the account's counter, the address's counter. ARGV: window (s), account limit, address limit.
# Returns 0 when the request may go ahead, else the seconds until the exceeded window ends.
_COUNT_THEN_DECIDE = """
local window = tonumber(ARGV[1])
local limits = {tonumber(ARGV[2]), tonumber(ARGV[3])}
local wait = 0
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  local ttl = redis.call('TTL', key)
  if ttl < 0 then
    redis.call('EXPIRE', key, window)
    ttl = window
  end
  if n > limits[i] and ttl > wait then wait = ttl end
end
return wait
"""


@dataclass(frozen=True)
class Limits:
    per_account: int = 30
    per_ip: int = 300
    window_s: int = 60

    @classmethod
    def from_env(cls) -> Limits:
        return cls(per_account=env_int("PHOTOSTACK_FACE_SEARCH_PER_ACCOUNT", cls.per_account, minimum=1),
                   per_ip=env_int("PHOTOSTACK_FACE_SEARCH_PER_IP", cls.per_ip, minimum=1),
                   window_s=env_int("PHOTOSTACK_FACE_SEARCH_WINDOW_S", cls.window_s, minimum=1))


class FaceSearchLimit:
    def __init__(self, client: Any, limits: Limits, *, prefix: str = "photostack:faces:search:") -> None:
        self._script = client.register_script(_COUNT_THEN_DECIDE)
        self.limits = limits
        self._prefix = prefix

    def check(self, user_id: str, client_ip: str) -> None:
        """Count this search; 429 (with Retry-After) when the account or the address is over its limit."""
        keys = [f"{self._prefix}acct:{user_id}", f"{self._prefix}ip:{client_ip}"]
        try:
            wait = int(self._script(keys=keys, args=[self.limits.window_s, self.limits.per_account,
                                                      self.limits.per_ip]))
        except redis.RedisError as exc:
            # Closed, not open: without the counter nothing bounds the model runs.
            raise e.Unavailable("face search is unavailable right now",
                                code="rate_limit_unavailable") from exc
        if wait > 0:
            raise e.Throttled(f"too many face searches; try again in {wait} s",
                              code="rate_limited", retry_after_s=wait)


def source_ip(context: dict[str, Any] | None) -> str:
    """The caller's address as API Gateway saw it (the connection's, not a header a client can forge)."""
    identity = (context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


_limit: WarmSlot[FaceSearchLimit] = WarmSlot(
    "face search limit", lambda: FaceSearchLimit(request_redis(get_settings().redis_url), Limits.from_env()))


def face_search_limit() -> FaceSearchLimit:
    return _limit.get()


def reset_face_search_limit(limit: FaceSearchLimit | None = None) -> None:
    """Replace (or forget) the process-wide limiter; tests use it."""
    _limit.install(limit)
