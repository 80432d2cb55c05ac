"""Warm-container slots: one instance per process, built on first use, kept across invocations.

A Lambda container serves many invocations; database pools and clients should be built
once, not per request. A :class:`WarmSlot` names that cache instead of hiding it in an
anonymous global, bounds it to one instance, and makes it resettable for tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class WarmSlot[T]:
    def __init__(self, name: str, build: Callable[[], T], close: Callable[[T], None] | None = None) -> None:
        self.name = name
        self._build = build
        self._close = close
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._build()
            return self._value

    def install(self, value: T | None) -> None:
        """Put a prepared instance in (tests), or ``None`` to build afresh on next use.

        The replaced instance is left open: whoever installed it still owns it.
        """
        with self._lock:
            self._value = value

    def reset(self) -> None:
        """Forget the instance, closing it, so the next :meth:`get` builds a new one."""
        with self._lock:
            old, self._value = self._value, None
        if old is not None and self._close is not None:
            self._close(old)
