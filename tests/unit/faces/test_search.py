"""The in-memory vector index: ranking, threshold, one entry per photo, pagination, writes."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.vector_index import DIMENSIONS, InMemoryVectorIndex, Match, VectorIndex

pytestmark = pytest.mark.unit


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.normal(size=(n, DIMENSIONS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _towards(base: np.ndarray, noise: np.ndarray, similarity: float) -> np.ndarray:
    """A unit vector whose cosine with `base` is exactly `similarity`."""
    orth = noise - (noise @ base) * base
    orth /= np.linalg.norm(orth)
    return (similarity * base + np.sqrt(1 - similarity**2) * orth).astype(np.float32)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def test_it_satisfies_the_protocol() -> None:
    index: VectorIndex = InMemoryVectorIndex()
    assert not index.loaded("e")


def test_photos_come_best_first_above_the_threshold(rng: np.random.Generator) -> None:
    index = InMemoryVectorIndex()
    query = _unit(rng, 1)[0]
    noise = _unit(rng, 4)
    faces = np.stack([_towards(query, noise[i], s) for i, s in enumerate([0.5, 0.9, 0.2, 0.7])])
    index.add("e", ["f1", "f2", "f3", "f4"], ["p1", "p2", "p3", "p4"], faces)
    result = index.search("e", query, threshold=0.4, limit=10)
    assert [m.photo_id for m in result] == ["p2", "p4", "p1"]
    assert [round(m.score, 4) for m in result] == [0.9, 0.7, 0.5]
    assert isinstance(result[0], Match) and result[0] == ("p2", pytest.approx(0.9, abs=1e-5))


def test_a_photo_appears_once_with_its_best_face(rng: np.random.Generator) -> None:
    index = InMemoryVectorIndex()
    query = _unit(rng, 1)[0]
    noise = _unit(rng, 3)
    faces = np.stack([_towards(query, noise[i], s) for i, s in enumerate([0.6, 0.95, 0.8])])
    index.add("e", ["a", "b", "c"], ["group", "group", "solo"], faces)
    result = index.search("e", query, threshold=0.5)
    assert [(m.photo_id, round(m.score, 3)) for m in result] == [("group", 0.95), ("solo", 0.8)]


def test_nothing_above_the_threshold_is_an_empty_result(rng: np.random.Generator) -> None:
    index = InMemoryVectorIndex()
    index.add("e", ["a", "b"], ["p1", "p2"], _unit(rng, 2))
    assert index.search("e", _unit(rng, 1)[0], threshold=0.5) == []


def test_unknown_event_is_empty(rng: np.random.Generator) -> None:
    assert InMemoryVectorIndex().search("nope", _unit(rng, 1)[0]) == []


def test_pages_cover_every_photo_once_in_order(rng: np.random.Generator) -> None:
    index = InMemoryVectorIndex()
    query = _unit(rng, 1)[0]
    noise = _unit(rng, 30)
    # Ties on purpose: equal scores must still page deterministically.
    sims = [0.9 - 0.02 * (i // 2) for i in range(30)]
    faces = np.stack([_towards(query, noise[i], s) for i, s in enumerate(sims)])
    index.add("e", [f"f{i}" for i in range(30)], [f"p{i:02d}" for i in range(30)], faces)
    everything = index.search("e", query, threshold=0.0, limit=100)
    pages = [index.search("e", query, threshold=0.0, limit=7, offset=o) for o in range(0, 35, 7)]
    assert [m for page in pages for m in page] == everything
    assert len(everything) == 30
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    scores = [m.score for m in everything]
    assert scores == sorted(scores, reverse=True)


def test_adding_a_face_again_replaces_it(rng: np.random.Generator) -> None:
    index = InMemoryVectorIndex()
    query = _unit(rng, 1)[0]
    noise = _unit(rng, 2)
    index.add("e", ["f1"], ["p1"], _towards(query, noise[0], 0.3)[np.newaxis])
    index.add("e", ["f1"], ["p1"], _towards(query, noise[1], 0.8)[np.newaxis])
    assert index.face_count("e") == 1
    assert [m.photo_id for m in index.search("e", query, threshold=0.5)] == ["p1"]


def test_growth_keeps_earlier_faces(rng: np.random.Generator) -> None:
    index = InMemoryVectorIndex()
    vectors = _unit(rng, 300)
    for i in range(300):
        index.add("e", [f"f{i}"], [f"p{i}"], vectors[i])
    assert index.face_count("e") == 300
    top = index.search("e", vectors[17], threshold=0.99, limit=1)
    assert top == [("p17", pytest.approx(1.0, abs=1e-5))]


def test_removed_photos_are_not_found(rng: np.random.Generator) -> None:
    index = InMemoryVectorIndex()
    vectors = _unit(rng, 3)
    index.add("e", ["a", "b", "c"], ["p1", "p1", "p2"], vectors)
    index.remove_photos("e", ["p1"])
    assert index.face_count("e") == 1
    assert index.search("e", vectors[0], threshold=0.9) == []
    assert [m.photo_id for m in index.search("e", vectors[2], threshold=0.9)] == ["p2"]


def test_withheld_faces_are_returned_to_nobody(rng: np.random.Generator) -> None:
    index = InMemoryVectorIndex()
    query, reference = _unit(rng, 2)
    noise = _unit(rng, 4)
    faces = np.stack([_towards(query, noise[0], 0.8), _towards(query, noise[1], 0.8),
                      _towards(query, noise[2], 0.8)])
    faces[1] = _towards(reference, noise[3], 0.6)  # p2's face is the opted-out person's
    index.add("e", ["a", "b", "c"], ["p1", "p2", "p3"], faces)
    assert index.withhold_near("e", reference[np.newaxis], 0.3) == 1
    assert index.withhold_near("e", reference[np.newaxis], 0.3) == 0  # already withheld
    assert index.withheld_count("e") == 1
    assert {m.photo_id for m in index.search("e", query, threshold=0.5)} == {"p1", "p3"}
    assert index.search("e", reference, threshold=0.3) == []  # not even through the reference itself
    index.release_all("e")
    assert [m.photo_id for m in index.search("e", reference, threshold=0.5)] == ["p2"]


def test_withholding_can_be_limited_to_some_photos(rng: np.random.Generator) -> None:
    index = InMemoryVectorIndex()
    reference = _unit(rng, 1)[0]
    noise = _unit(rng, 2)
    index.add("e", ["a", "b"], ["p1", "p2"], np.stack([_towards(reference, n, 0.7) for n in noise]))
    assert index.withhold_near("e", reference[np.newaxis], 0.3, photo_ids=["p2"]) == 1
    assert [m.photo_id for m in index.search("e", reference, threshold=0.5)] == ["p1"]


def test_a_replaced_face_is_no_longer_withheld(rng: np.random.Generator) -> None:
    index = InMemoryVectorIndex()
    reference, other = _unit(rng, 2)
    index.add("e", ["a"], ["p1"], reference[np.newaxis])
    index.withhold_near("e", reference[np.newaxis], 0.3)
    index.add("e", ["a"], ["p1"], other[np.newaxis])
    assert [m.photo_id for m in index.search("e", other, threshold=0.9)] == ["p1"]


def test_withholding_survives_growth_and_removal(rng: np.random.Generator) -> None:
    index = InMemoryVectorIndex()
    vectors = _unit(rng, 100)
    index.add("e", ["f0"], ["p0"], vectors[0])
    index.withhold_near("e", vectors[0][np.newaxis], 0.9)
    for i in range(1, 100):  # grows the matrix several times
        index.add("e", [f"f{i}"], [f"p{i}"], vectors[i])
    index.remove_photos("e", ["p5"])
    assert index.withheld_count("e") == 1
    assert index.search("e", vectors[0], threshold=0.9) == []
    assert [m.photo_id for m in index.search("e", vectors[6], threshold=0.9)] == ["p6"]


def test_events_are_separate_and_evictable(rng: np.random.Generator) -> None:
    index = InMemoryVectorIndex(max_events=2)
    vectors = _unit(rng, 3)
    index.add("e1", ["a"], ["p1"], vectors[0])
    index.add("e2", ["b"], ["p2"], vectors[1])
    assert index.search("e2", vectors[0], threshold=0.9) == []
    index.search("e1", vectors[0])  # e1 is now the most recently used
    index.add("e3", ["c"], ["p3"], vectors[2])
    assert index.loaded("e1") and index.loaded("e3") and not index.loaded("e2")
    index.evict("e1")
    assert not index.loaded("e1")


def test_an_event_without_faces_can_be_marked_loaded() -> None:
    index = InMemoryVectorIndex()
    index.add("e", [], [], np.zeros((0, DIMENSIONS), dtype=np.float32))
    assert index.loaded("e") and index.face_count("e") == 0


def test_queries_are_normalised(rng: np.random.Generator) -> None:
    index = InMemoryVectorIndex()
    vector = _unit(rng, 1)[0]
    index.add("e", ["a"], ["p"], vector * 3)
    assert index.search("e", vector * 10, threshold=0.99) == [("p", pytest.approx(1.0, abs=1e-5))]


@pytest.mark.parametrize("bad", [np.zeros(DIMENSIONS), np.ones(128), np.full(DIMENSIONS, np.nan)])
def test_bad_vectors_are_refused(bad: np.ndarray) -> None:
    index = InMemoryVectorIndex()
    with pytest.raises(ValueError):
        index.add("e", ["a"], ["p"], bad)
    with pytest.raises(ValueError):
        index.search("e", bad)


def test_mismatched_lengths_and_repeated_ids_are_refused(rng: np.random.Generator) -> None:
    index = InMemoryVectorIndex()
    with pytest.raises(ValueError):
        index.add("e", ["a", "b"], ["p"], _unit(rng, 2))
    with pytest.raises(ValueError):
        index.add("e", ["a", "a"], ["p", "p"], _unit(rng, 2))
    with pytest.raises(ValueError):
        index.search("e", _unit(rng, 1)[0], limit=-1)
