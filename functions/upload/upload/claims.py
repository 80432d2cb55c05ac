"""Redis as the work claims that make at-least-once delivery do the work once.

Per work key (bucket/key@etag), three Redis keys:
- ``…:lock``  ``SET NX EX`` with a random token while a delivery works on it; its TTL is a
  little over the function timeout, so a killed invocation's lock expires by itself.
- ``…:done``  the outcome once finished; duplicates that see it are skipped (kept for days).
- ``…:open``  deliveries that took the lock and neither finished nor released it; a count
  above one when a new delivery claims means an earlier one died mid-way.
"""

from __future__ import annotations

import secrets
from typing import Any

from upload.ports import Claim, ClaimState

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  local n = redis.call('DECR', KEYS[2])
  if n <= 0 then redis.call('DEL', KEYS[2]) end
  return 1
end
return 0
"""

_FINISH = """
redis.call('SET', KEYS[3], ARGV[2], 'EX', ARGV[3])
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('DEL', KEYS[2])
return 1
"""


class RedisWorkClaims:
    def __init__(self, client: Any, *, lock_ttl_s: int, done_ttl_s: int,
                 prefix: str = "photostack:upload") -> None:
        self.client = client
        self.lock_ttl_s = lock_ttl_s
        self.done_ttl_s = done_ttl_s
        self.prefix = prefix
        self._release = client.register_script(_RELEASE)
        self._finish = client.register_script(_FINISH)

    def _keys(self, work_key: str) -> tuple[str, str, str]:
        base = f"{self.prefix}:{work_key}"
        return f"{base}:lock", f"{base}:open", f"{base}:done"

    def claim(self, work_key: str) -> Claim:
        lock, opened, done = self._keys(work_key)
        outcome = self.client.get(done)
        if outcome is not None:
            return Claim(ClaimState.DONE, outcome=_text(outcome))
        token = secrets.token_hex(16)
        if not self.client.set(lock, token, nx=True, ex=self.lock_ttl_s):
            outcome = self.client.get(done)  # it may have finished between the two calls
            if outcome is not None:
                return Claim(ClaimState.DONE, outcome=_text(outcome))
            return Claim(ClaimState.BUSY)
        pipe = self.client.pipeline()
        pipe.incr(opened)
        pipe.expire(opened, self.done_ttl_s)
        attempt, _ = pipe.execute()
        return Claim(ClaimState.ACQUIRED, token=token, attempt=int(attempt))

    def finish(self, work_key: str, token: str, outcome: str) -> None:
        lock, opened, done = self._keys(work_key)
        self._finish(keys=[lock, opened, done], args=[token, outcome, self.done_ttl_s])

    def release(self, work_key: str, token: str) -> None:
        lock, opened, _ = self._keys(work_key)
        self._release(keys=[lock, opened], args=[token])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
