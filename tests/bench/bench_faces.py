"""Face benchmarks: indexing speed with the real models, and search latency straight at the
in-memory per-event index (the part the sidecar will host) for an event of 10,000 faces.

    .venv/bin/python -m tests.bench faces      (or through `make bench`)

Indexing runs the evaluation set (40 tight crops + 5 group photos, see infra/eval_faces.py)
through decode + detection + landmarks + embedding on one onnxruntime thread, as the
face-index function does. Search uses synthetic unit embeddings: 3,000 photos with 10,000
faces, queries that resemble a few of them (like a selfie of one attendee), threshold and page
size as the API will use them.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT, ROOT / "layers" / "core" / "python", ROOT / "functions" / "faces"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from faces.models import load_models  # noqa: E402
from faces.search import DEFAULT_THRESHOLD, DIMENSIONS, InMemoryVectorIndex  # noqa: E402

from infra.eval_faces import index_all, load_set  # noqa: E402
from infra.models import ensure_models  # noqa: E402
from tests.bench.stats import summary_ms  # noqa: E402

FACES = 10_000
PHOTOS = 3_000
QUERIES = 500
PAGE = 50


def _indexing() -> list[tuple[str, str]]:
    models = load_models(ensure_models(), threads=1)
    photos = load_set()
    index_all(photos[:2], models)  # warm-up: first runs allocate onnxruntime's buffers
    indexed = index_all(photos, models)
    seconds = sum(i.seconds for i in indexed)
    faces = sum(len(i.faces) for i in indexed)
    groups = [i for i in indexed if i.photo.person is None]
    group_ms = sum(i.seconds for i in groups) / len(groups) * 1000
    group_faces = sum(len(i.faces) for i in groups) / len(groups)
    return [
        ("faces: indexing, faces per second (1 thread, eval set)", f"{faces / seconds:.1f} faces/s "
         f"({faces} faces, {len(indexed)} photos, {seconds / len(indexed) * 1000:.0f} ms per photo)"),
        ("faces: indexing a group photo (decode+detect+embed)",
         f"{group_ms:.0f} ms per photo, {group_faces:.1f} faces each"),
    ]


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, DIMENSIONS), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _search(faces: int, queries: int) -> tuple[list[float], float, int]:
    rng = np.random.default_rng(9)
    vectors = _unit(rng, faces)
    photo_of = rng.integers(0, PHOTOS, size=faces)
    index = InMemoryVectorIndex()
    started = time.perf_counter()
    index.add("event", [f"face-{i}" for i in range(faces)], [f"photo-{p}" for p in photo_of], vectors)
    load_s = time.perf_counter() - started
    # A selfie resembles one attendee's faces at about the same-person similarity seen in the evaluation.
    targets = rng.integers(0, faces, size=queries)
    noise = _unit(rng, queries)
    samples, found = [], 0
    for target, jitter in zip(targets, noise, strict=True):
        query = 0.6 * vectors[target] + 0.8 * jitter
        started = time.perf_counter()
        result = index.search("event", query, threshold=DEFAULT_THRESHOLD, limit=PAGE)
        samples.append(time.perf_counter() - started)
        found += len(result)
    return samples, load_s, found


def run() -> list[tuple[str, str]]:
    rows = _indexing()
    samples, load_s, found = _search(FACES, QUERIES)
    rows.append((f"faces: search, {FACES} faces / {PHOTOS} photos, in-memory index",
                 f"{summary_ms(samples)}; {found / QUERIES:.1f} photos per answer"))
    rows.append((f"faces: loading {FACES} faces into the index", f"{load_s * 1000:.0f} ms"))
    big, big_load, _ = _search(100_000, 100)
    rows.append(("faces: search, 100,000 faces (headroom)",
                 f"{summary_ms(big)}; load {big_load * 1000:.0f} ms"))
    return rows


if __name__ == "__main__":
    for metric, value in run():
        print(f"  {metric:<68} {value}")
