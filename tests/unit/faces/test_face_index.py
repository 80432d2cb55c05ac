"""The sidecar's hosted face index applies opt-out references lazily, once each, at search time."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.face_domain import FaceRows, References
from sidecar.face_index import HostedFaceIndex
from sidecar.vector_index import DIMENSIONS, VectorIndex

pytestmark = pytest.mark.unit


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def near(rng: np.random.Generator, who: np.ndarray) -> np.ndarray:
    """Another photo of the same person (cosine about 0.7)."""
    return unit(who + 0.9 * unit(rng.standard_normal(DIMENSIONS)))


def refs(revision: int, **people: tuple[int, np.ndarray]) -> References:
    keys = tuple((user, rev) for user, (rev, _) in people.items())
    vectors = np.stack([v for _, v in people.values()]) if people else np.zeros((0, DIMENSIONS), np.float32)
    return References(revision=revision, keys=keys, vectors=vectors)


class Event:
    """One event's faces as Postgres would hand them over (its version moves on every write)."""

    def __init__(self, faces: dict[str, np.ndarray]) -> None:
        self.faces = faces  # photo id -> one face
        self.version = 1

    def rows(self) -> FaceRows:
        ids = sorted(self.faces)
        return FaceRows(self.version, [f"face-{p}" for p in ids], ids, np.stack([self.faces[p] for p in ids]))


def found(index: HostedFaceIndex, event: Event, references: References, query: np.ndarray) -> set[str]:
    matches = index.search("e", event.version, event.rows, references, query, threshold=0.35, limit=50)
    return {m.photo_id for m in matches}


def test_a_reference_withholds_matching_faces_from_every_search(rng: np.random.Generator) -> None:
    victim, other = unit(rng.standard_normal(DIMENSIONS)), unit(rng.standard_normal(DIMENSIONS))
    event = Event({"v1": near(rng, victim), "v2": near(rng, victim), "o1": near(rng, other)})
    index = HostedFaceIndex()
    assert found(index, event, refs(1), victim) == {"v1", "v2"}
    # A opts out with the victim's face: nobody finds the victim, A included (no caller matters).
    opted = refs(2, A=(2, near(rng, victim)))
    assert found(index, event, opted, victim) == set()
    assert found(index, event, opted, near(rng, victim)) == set()
    assert found(index, event, opted, other) == {"o1"}


def test_each_reference_is_applied_to_an_event_once(rng: np.random.Generator) -> None:
    victim = unit(rng.standard_normal(DIMENSIONS))
    event = Event({"v1": near(rng, victim)})
    index = HostedFaceIndex()
    opted = refs(2, A=(2, victim))
    for _ in range(3):  # repeated searches, and the same references seen again at a later revision
        assert found(index, event, opted, victim) == set()
    assert found(index, event, refs(5, A=(2, victim)), victim) == set()
    assert index.applied == 1
    second = unit(rng.standard_normal(DIMENSIONS))
    found(index, event, refs(6, A=(2, victim), B=(6, second)), victim)
    assert index.applied == 2  # only B's reference was new


def test_a_dropped_reference_releases_its_faces_and_keeps_the_others(rng: np.random.Generator) -> None:
    alice, bob = unit(rng.standard_normal(DIMENSIONS)), unit(rng.standard_normal(DIMENSIONS))
    event = Event({"a": near(rng, alice), "b": near(rng, bob)})
    index = HostedFaceIndex()
    assert found(index, event, refs(3, A=(2, alice), B=(3, bob)), alice) == set()
    after = refs(4, B=(3, bob))  # A opted back in
    assert found(index, event, after, alice) == {"a"}
    assert found(index, event, after, bob) == set()
    replaced = refs(5, B=(5, unit(rng.standard_normal(DIMENSIONS))))  # B gave another selfie
    assert found(index, event, replaced, bob) == {"b"}


def test_faces_written_in_place_are_checked_against_the_applied_references(rng: np.random.Generator) -> None:
    victim = unit(rng.standard_normal(DIMENSIONS))
    event = Event({"v1": near(rng, victim)})
    index = HostedFaceIndex()
    opted = refs(2, A=(2, victim))
    assert found(index, event, opted, victim) == set()
    later = near(rng, victim)
    event.faces["v2"] = later
    event.version += 1

    def apply(vectors: VectorIndex) -> None:
        vectors.add("e", ["face-v2"], ["v2"], later[np.newaxis])

    index.written("e", event.version, apply, ["v2"])
    assert index.loads == 1  # applied in place, not reloaded
    assert found(index, event, opted, victim) == set()
    assert found(index, event, refs(3), victim) == {"v1", "v2"}


def test_references_are_read_only_when_their_revision_moves(rng: np.random.Generator) -> None:
    index = HostedFaceIndex()
    current = refs(7, A=(7, unit(rng.standard_normal(DIMENSIONS))))
    assert index.references(7, lambda: current) is current
    assert index.references(7, lambda: pytest.fail("read again at the same revision")) is current
    newer = refs(8)
    assert index.references(8, lambda: newer) is newer
    assert index.reference_loads == 2
