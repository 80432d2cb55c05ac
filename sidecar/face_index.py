"""The sidecar's in-memory face index: one matrix per event, kept in step with Postgres.

Postgres holds the faces; each event also has a version there, bumped by every change to its
faces. This process remembers the version of each event it holds. A search passes the current
version: an event not held, or held at another version (another sidecar instance wrote), is
loaded again first. A write made here passes the new version: when the event was held at the
version just before it, the change is applied in place, otherwise the event is dropped and the
next search loads it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection

import numpy as np

from sidecar.face_domain import FaceRows
from sidecar.vector_index import InMemoryVectorIndex, Match, VectorIndex

# Events held at once (least recently used go first): 10,000 faces are about 20 MB.
MAX_EVENTS = 64


class HostedFaceIndex:
    def __init__(self, index: VectorIndex | None = None, *, max_events: int = MAX_EVENTS) -> None:
        self._index: VectorIndex = index or InMemoryVectorIndex(max_events=max_events)
        self._versions: dict[str, int] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.loads = 0  # how many times an event was read from Postgres (tests, metrics)

    def _lock(self, event_id: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(event_id)
            if lock is None:
                lock = self._locks[event_id] = threading.Lock()
            return lock

    def _current(self, event_id: str, version: int) -> bool:
        return self._index.loaded(event_id) and self._versions.get(event_id) == version

    def search(self, event_id: str, version: int, load: Callable[[], FaceRows], query: np.ndarray, *,
               threshold: float, limit: int, exclude_subjects: Collection[str]) -> list[Match]:
        with self._lock(event_id):
            if not self._current(event_id, version):
                rows = load()
                self.loads += 1
                self._index.evict(event_id)
                self._index.add(event_id, rows.face_ids, rows.photo_ids, rows.embeddings, rows.subjects)
                self._versions[event_id] = rows.version
            return self._index.search(event_id, query, threshold=threshold, limit=limit,
                                      exclude_subjects=exclude_subjects)

    def written(self, event_id: str, new_version: int, apply: Callable[[VectorIndex], None]) -> None:
        """After a committed write that took the event to `new_version`."""
        with self._lock(event_id):
            if self._current(event_id, new_version - 1):
                apply(self._index)
                self._versions[event_id] = new_version
            else:
                self._drop(event_id)

    def evict(self, event_id: str) -> None:
        with self._lock(event_id):
            self._drop(event_id)

    def _drop(self, event_id: str) -> None:
        self._index.evict(event_id)
        self._versions.pop(event_id, None)
