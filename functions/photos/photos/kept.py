"""Values a warm function keeps for a while: bounded, least recently stored out first, safe
across the threads of one process. The presigned-URL cache (photos.storage) and the page
bodies (photos.page_bodies) are both this, with their own lifetimes."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable


class KeptValues[V]:
    """``get(key, build)`` answers the value stored for ``key`` less than ``keep_s`` ago, or
    builds, stores and answers a new one."""

    def __init__(self, keep_s: float, max_entries: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._keep_s = keep_s
        self._max = max_entries
        self._clock = clock
        self._values: OrderedDict[Hashable, tuple[V, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        now = self._clock()
        with self._lock:
            hit = self._values.get(key)
            if hit is not None and hit[1] > now:
                return hit[0]
        value = build()
        with self._lock:
            self._values[key] = (value, now + self._keep_s)
            self._values.move_to_end(key)
            while len(self._values) > self._max:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        return len(self._values)
