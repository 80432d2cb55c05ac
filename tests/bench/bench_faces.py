"""Face benchmarks: indexing speed with the real models, and search latency straight at the
in-memory per-event index (the part the sidecar will host) for an event of 10,000 faces.

    .venv/bin/python -m tests.bench faces      (or through `make bench`)

Indexing runs the evaluation set (40 tight crops + 5 group photos, see infra/eval_faces.py)
through decode + detection + landmarks + embedding on one onnxruntime thread, as the
face-index function does. Search uses synthetic unit embeddings: 3,000 photos with 10,000
faces, queries that resemble a few of them (like a selfie of one attendee), threshold and page
size as the API will use them.

With the stack up, the same scale through the product: an event of 1,000 ready photos with
10,000 faces (synthetic, plus one person's real face planted in 20 photos) indexed through the
stack's photo sidecar (IndexFaces), then SearchFaces straight at that sidecar (gRPC, the
matrix already loaded) and POST /events/{id}/face-search through API Gateway with a real
selfie (base64 JSON -> detection -> embedding -> SearchFaces -> presigned thumbnails).
"""

from __future__ import annotations

import base64
import json
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT, ROOT / "layers" / "core" / "python", ROOT / "layers" / "faces" / "python"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from facerec.models import load_models  # noqa: E402

from infra.eval_faces import index_all, load_set  # noqa: E402
from infra.models import ensure_models  # noqa: E402
from sidecar.vector_index import DEFAULT_THRESHOLD, DIMENSIONS, InMemoryVectorIndex  # noqa: E402
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


STACK_OUTPUTS = ROOT / ".state" / "stack-outputs.json"
SELFIE = ROOT.parent / "shared" / "data" / "faces" / "people" / "amy" / "amy1.png"
PLANTED = ROOT.parent / "shared" / "data" / "faces" / "people" / "amy" / "amy2.png"
PRODUCT_PHOTOS, FACES_PER_PHOTO, PLANTED_PHOTOS = 1_000, 10, 20
FACE_SEARCHES_TIMED = 28  # + the first: 29, within the per-account limit of 30 a minute


def _seed_event(stubs: tuple[object, object, object], planted: np.ndarray) -> str:
    """A public event with PRODUCT_PHOTOS ready photos and FACES_PER_PHOTO faces each, through gRPC:
    ``stubs`` = (as the photos API, as the upload function, as the face-index function)."""
    from photostack.photo.v1 import photo_pb2 as pb

    from tests.identity import bearer, person

    api, upload, indexer = stubs
    owner = bearer(person(f"bench-faces-{uuid.uuid4().hex[:8]}", "photographer"))
    event = api.CreateEvent(pb.CreateEventRequest(  # type: ignore[attr-defined]
        name="faces bench", date="2025-06-01", visibility=pb.VISIBILITY_PUBLIC), timeout=10, metadata=owner)
    rng = np.random.default_rng(11)

    def one(n: int) -> None:
        photo = api.ReservePhoto(pb.ReservePhotoRequest(  # type: ignore[attr-defined]
            event_id=event.id, content_type="image/jpeg", declared_bytes=1000), timeout=10, metadata=owner)
        key = f"derivatives/{event.id}/{photo.id}"
        upload.RegisterDerivatives(pb.RegisterDerivativesRequest(  # type: ignore[attr-defined]
            photo_id=photo.id, width=100, height=80, original_bytes=1000, sha256="ef" * 32,
            derivatives=[pb.Derivative(kind=k, key=f"{key}/{k}.jpg", width=10, height=8, bytes=100,
                                       content_type="image/jpeg") for k in ("web_jpg", "thumb_jpg")]),
            timeout=10)
        vectors = _unit(rng, FACES_PER_PHOTO)
        if n < PLANTED_PHOTOS:
            vectors[0] = planted
        indexer.IndexFaces(pb.IndexFacesRequest(photo_id=photo.id, faces=[  # type: ignore[attr-defined]
            pb.Face(x1=1, y1=1, x2=20, y2=20, score=0.9, embedding=v.astype("<f4").tobytes())
            for v in vectors]), timeout=10)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(PRODUCT_PHOTOS)))
    return str(event.id)


def _through_the_product(models: object) -> list[tuple[str, str]]:
    if not STACK_OUTPUTS.exists():
        return [("faces: search through the product", "stack not deployed")]
    from facerec.pipeline import load_image, single_face
    from photostack.photo.v1 import photo_pb2_grpc as pb_grpc

    from tests.identity import STACK_SIDECAR, secure_channel

    planted = single_face(load_image(PLANTED.read_bytes()), models).embedding  # type: ignore[arg-type]
    rows: list[tuple[str, str]] = []
    with secure_channel(STACK_SIDECAR, "photostack-photos") as api, \
            secure_channel(STACK_SIDECAR, "photostack-upload") as upload, \
            secure_channel(STACK_SIDECAR, "photostack-faces") as indexer:
        started = time.perf_counter()
        event_id = _seed_event((pb_grpc.PhotoServiceStub(api), pb_grpc.PhotoServiceStub(upload),
                                pb_grpc.PhotoServiceStub(indexer)), planted)
    try:
        return _measure(event_id, planted, rows, started)
    finally:
        _drop_event(event_id)


def _drop_event(event_id: str) -> None:
    """The bench's synthetic event goes when it is done: it must not weigh on later runs, and its
    photos are ready with no object in S3 (what make up's storage check would take for lost)."""
    from photostack.config import get_settings

    from tests.made_events import remove_events

    remove_events(get_settings().database_url, [event_id])


def _measure(event_id: str, planted: np.ndarray, rows: list[tuple[str, str]], started: float,
             ) -> list[tuple[str, str]]:
    import requests
    from photostack.photo.v1 import photo_pb2 as pb
    from photostack.photo.v1 import photo_pb2_grpc as pb_grpc
    from photostack.tokens import issue_access_token

    from tests.identity import STACK_SIDECAR, bearer, person, secure_channel

    label = f"{PRODUCT_PHOTOS * FACES_PER_PHOTO} faces"
    with secure_channel(STACK_SIDECAR, "photostack-photos") as channel:
        stub = pb_grpc.PhotoServiceStub(channel)
        seeded = time.perf_counter() - started
        rows.append((f"faces: IndexFaces through the sidecar ({FACES_PER_PHOTO} faces per photo)",
                     f"{PRODUCT_PHOTOS * FACES_PER_PHOTO / seeded:.0f} faces/s "
                     f"({PRODUCT_PHOTOS} photos in {seeded:.1f} s, 4 callers, with reserve+register)"))
        viewer = bearer(person("bench-viewer", "customer"))
        request = pb.SearchFacesRequest(event_id=event_id, embedding=planted.astype("<f4").tobytes(),
                                        limit=50)
        started = time.perf_counter()
        found = stub.SearchFaces(request, timeout=30, metadata=viewer)
        rows.append((f"faces: first SearchFaces (loads the event's {label} from Postgres)",
                     f"{(time.perf_counter() - started) * 1000:.0f} ms, {len(found.matches)} photos"))
        samples = []
        for _ in range(200):
            t = time.perf_counter()
            stub.SearchFaces(request, timeout=10, metadata=viewer)
            samples.append(time.perf_counter() - t)
        rows.append((f"faces: SearchFaces straight at the sidecar (gRPC), {label}", summary_ms(samples)))

    base = json.loads(STACK_OUTPUTS.read_text())["PhotosApiUrl"].rstrip("/")
    # A viewer of its own per run: face search allows an account 30 searches a minute
    # (face_search_limit.py), and this row makes 1 + FACE_SEARCHES_TIMED of them.
    viewer_id = f"bench-viewer-{uuid.uuid4().hex[:12]}"
    headers = {"Authorization": "Bearer " + issue_access_token(viewer_id, "customer")[0]}
    body = {"image_base64": base64.b64encode(SELFIE.read_bytes()).decode()}
    http = requests.Session()
    url = f"{base}/events/{event_id}/face-search"
    started = time.perf_counter()
    first = http.post(url, json=body, headers=headers, timeout=60)
    first.raise_for_status()
    rows.append(("faces: first POST /face-search (cold function: onnxruntime + models)",
                 f"{(time.perf_counter() - started) * 1000:.0f} ms, {len(first.json()['matches'])} photos"))
    samples = []
    for _ in range(FACE_SEARCHES_TIMED):
        t = time.perf_counter()
        http.post(url, json=body, headers=headers, timeout=60).raise_for_status()
        samples.append(time.perf_counter() - t)
    rows.append((f"faces: POST /events/{{id}}/face-search via API Gateway, {label}",
                 f"{summary_ms(samples)} (selfie {SELFIE.stat().st_size // 1024} kB: detect+embed+search)"))
    return rows


def run() -> list[tuple[str, str]]:
    rows = _indexing()
    samples, load_s, found = _search(FACES, QUERIES)
    rows.append((f"faces: search, {FACES} faces / {PHOTOS} photos, in-memory index",
                 f"{summary_ms(samples)}; {found / QUERIES:.1f} photos per answer"))
    rows.append((f"faces: loading {FACES} faces into the index", f"{load_s * 1000:.0f} ms"))
    big, big_load, _ = _search(100_000, 100)
    rows.append(("faces: search, 100,000 faces (headroom)",
                 f"{summary_ms(big)}; load {big_load * 1000:.0f} ms"))
    rows += _through_the_product(load_models(ensure_models(), threads=1))
    return rows


if __name__ == "__main__":
    for metric, value in run():
        print(f"  {metric:<68} {value}")
