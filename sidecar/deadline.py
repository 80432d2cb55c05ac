"""The time left to the current call, so every layer below the servicer can honour it.

The servicer sets it from the gRPC deadline (capped by the server's own maximum);
the repository turns it into a Postgres ``statement_timeout``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

MAX_CALL_S = 10.0

_deadline: ContextVar[float | None] = ContextVar("sidecar_call_deadline", default=None)


class DeadlineExceeded(Exception):
    """The caller's deadline passed before the work could finish."""


@contextmanager
def call_deadline(remaining_s: float | None) -> Iterator[None]:
    budget = MAX_CALL_S if remaining_s is None else min(remaining_s, MAX_CALL_S)
    token = _deadline.set(time.monotonic() + budget)
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining_ms() -> int:
    """Milliseconds left (at least 1), or raise when nothing is left."""
    deadline = _deadline.get()
    if deadline is None:
        return int(MAX_CALL_S * 1000)
    left = int((deadline - time.monotonic()) * 1000)
    if left <= 0:
        raise DeadlineExceeded("deadline exceeded")
    return left
