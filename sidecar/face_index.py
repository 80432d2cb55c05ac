"""The sidecar's in-memory face index: one matrix per event, kept in step with Postgres, and
where opt-outs are applied.

Postgres holds the faces; each event also has a version there, bumped by every change to its
faces. This process remembers the version of each event it holds. A search passes the current
version: an event not held, or held at another version (another sidecar instance wrote), is
loaded again first. A write made here passes the new version: when the event was held at the
version just before it, the change is applied in place, otherwise the event is dropped and the
next search loads it.

Opt-outs are applied here, lazily, never in the request that opts out: a search also passes
the opt-out references at their current revision, and before answering, the event's matrix
withholds every face that matches a reference it has not applied yet (its faces x the new
references: one small matrix product). Which references each held event has applied is
remembered by key (user, reference revision), so applying is idempotent: a reference already
applied costs nothing, however often the opt-out is repeated or the event searched. A reference
dropped or replaced (opting back in, a new selfie) cannot be un-applied face by face, so the
event is released and every current reference applied again. Faces written in place are checked
against the references their event has applied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection

import numpy as np

from sidecar.face_domain import OPT_OUT_MATCH, FaceRows, References
from sidecar.vector_index import InMemoryVectorIndex, Match, VectorIndex

# Events held at once (least recently used go first): 10,000 faces are about 20 MB.
MAX_EVENTS = 64


class HostedFaceIndex:
    def __init__(self, index: VectorIndex | None = None, *, max_events: int = MAX_EVENTS) -> None:
        self._index: VectorIndex = index or InMemoryVectorIndex(max_events=max_events)
        self._versions: dict[str, int] = {}
        self._applied: dict[str, References] = {}  # per held event: the references it withholds
        self._references = References(revision=-1)  # the latest loaded; -1: none yet
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.loads = 0  # how many times an event was read from Postgres (tests, metrics)
        self.reference_loads = 0  # how many times the opt-out references were read
        self.applied = 0  # (event, reference) pairs applied to a matrix: each at most once

    def _lock(self, event_id: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(event_id)
            if lock is None:
                lock = self._locks[event_id] = threading.Lock()
            return lock

    def _current(self, event_id: str, version: int) -> bool:
        return self._index.loaded(event_id) and self._versions.get(event_id) == version

    def references(self, revision: int, load: Callable[[], References]) -> References:
        """The opt-out references at `revision`, read from Postgres only when it moved."""
        with self._guard:
            held = self._references
        if held.revision == revision:
            return held
        loaded = load()
        with self._guard:
            self.reference_loads += 1
            if loaded.revision >= self._references.revision:
                self._references = loaded
        return loaded

    def search(self, event_id: str, version: int, load: Callable[[], FaceRows], references: References,
               query: np.ndarray, *, threshold: float, limit: int) -> list[Match]:
        with self._lock(event_id):
            if not self._current(event_id, version):
                rows = load()
                self.loads += 1
                self._drop(event_id)
                self._index.add(event_id, rows.face_ids, rows.photo_ids, rows.embeddings)
                self._versions[event_id] = rows.version
            self._withhold(event_id, references)
            return self._index.search(event_id, query, threshold=threshold, limit=limit)

    def _withhold(self, event_id: str, references: References) -> None:
        """Bring the event's withheld faces to `references`, applying only what it lacks."""
        held = self._applied.get(event_id, References(revision=-1))
        have, want = set(held.keys), set(references.keys)
        if not have <= want:  # a reference was dropped or replaced: start again
            self._index.release_all(event_id)
            have = set()
        new = want - have
        if new:
            self._index.withhold_near(event_id, references.of(new), OPT_OUT_MATCH)
            self.applied += len(new)
        self._applied[event_id] = references

    def written(self, event_id: str, new_version: int, apply: Callable[[VectorIndex], None],
                photo_ids: Collection[str]) -> None:
        """After a committed write that took the event to `new_version` and changed the faces of
        `photo_ids`: those are checked against the references the event has applied."""
        with self._lock(event_id):
            if self._current(event_id, new_version - 1):
                apply(self._index)
                self._versions[event_id] = new_version
                held = self._applied.get(event_id)
                if held is not None and held.keys:
                    self._index.withhold_near(event_id, held.vectors, OPT_OUT_MATCH, photo_ids=photo_ids)
            else:
                self._drop(event_id)

    def evict(self, event_id: str) -> None:
        with self._lock(event_id):
            self._drop(event_id)

    def _drop(self, event_id: str) -> None:
        self._index.evict(event_id)
        self._versions.pop(event_id, None)
        self._applied.pop(event_id, None)
