"""Bib benchmarks: what OCR adds to indexing a photo, and `?bib=` search latency in an event of
10,000 photos, straight at the sidecar (gRPC SearchBibs) and through API Gateway.

    .venv/bin/python -m tests.bench bibs      (or through `make bench`)

Indexing: generated race photos (infra/bib_images.py, 1600x1067 like the web derivative's scale)
through decode + text detection + recognition on one onnxruntime thread, as the index function
does after the faces. Search: an event of 10,000 ready photos with two bibs each is written
straight into Postgres (seeding through 30,000 RPCs would measure the seeding), then searched
for numbers that are in about five photos each; the event is dropped afterwards.
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT, ROOT / "layers" / "core" / "python", ROOT / "layers" / "faces" / "python"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from bibocr.models import load_models  # noqa: E402
from bibocr.pipeline import bibs_in_image, load_image  # noqa: E402

from infra.bib_images import generate  # noqa: E402
from infra.models import ensure_ocr_models  # noqa: E402
from tests.bench.stats import summary_ms  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "faces"
STACK_OUTPUTS = ROOT / ".state" / "stack-outputs.json"
PHOTOS, NUMBERS = 10_000, 4_000  # two bibs a photo: each number in about five photos


def _indexing() -> list[tuple[str, str]]:
    models = load_models(ensure_ocr_models(), threads=1)
    samples = generate(DATA, 21, seed=99, without_bibs=0.0)
    bibs_in_image(load_image(samples[0].jpeg), models)  # warm-up: onnxruntime allocates its buffers
    seconds = []
    for s in samples[1:]:
        started = time.perf_counter()
        bibs_in_image(load_image(s.jpeg), models)
        seconds.append(time.perf_counter() - started)
    return [("bibs: OCR added to indexing a photo (decode+detect+read, 1 thread)",
             f"{summary_ms(seconds)} ({len(seconds)} photos of 1600x1067 with 1-3 bibs)")]


def _seed(database_url: str) -> tuple[str, str]:
    """A public event of PHOTOS ready photos, two bibs each, written in three statements."""
    import psycopg2

    owner = f"bench-bibs-{uuid.uuid4().hex[:8]}"
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO photos.events (owner_id, name, event_date, visibility)"
                    " VALUES (%s, 'bibs bench', '2026-06-01', 'public') RETURNING id::text", (owner,))
        event_id: str = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO photos.photos (event_id, owner_id, status, original_key, content_type,"
            " declared_bytes, width, height, original_bytes, sha256)"
            " SELECT %s, %s, 'ready', 'originals/' || %s || '/' || n, 'image/jpeg', 1000, 1600, 1067,"
            " 1000, repeat('ab', 32) FROM generate_series(1, %s) AS n", (event_id, owner, event_id, PHOTOS))
        cur.execute(
            "INSERT INTO photos.derivatives (photo_id, kind, key, width, height, bytes, content_type)"
            " SELECT id, k, 'derivatives/' || event_id || '/' || id || '/' || k || '.jpg', 320, 213,"
            " 1000, 'image/jpeg' FROM photos.photos, unnest(ARRAY['web_jpg', 'thumb_jpg']) AS k"
            " WHERE event_id = %s", (event_id,))
        cur.execute(
            "INSERT INTO photos.photo_bibs (photo_id, event_id, number, confidence, x1, y1, x2, y2)"
            " SELECT id, event_id, (1 + floor(random() * %s))::int::text, 0.5 + random() * 0.5,"
            " 10, 10, 90, 50 FROM photos.photos, generate_series(1, 2) AS b WHERE event_id = %s"
            " ON CONFLICT DO NOTHING", (NUMBERS, event_id))
    conn.close()
    return event_id, owner


def _customer(users: str) -> dict[str, str]:
    """A real customer account of the stack (its token is signed by the stack's own keys)."""
    import requests

    email, password = f"bench-bibs-{uuid.uuid4().hex[:10]}@example.com", "correct horse battery staple"
    requests.post(f"{users}/auth/register", json={"email": email, "password": password,
                                                  "display_name": "Bench", "role": "customer"},
                  timeout=30).raise_for_status()
    login = requests.post(f"{users}/auth/login", json={"email": email, "password": password}, timeout=30)
    login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def _drop(database_url: str, event_id: str) -> None:
    """The seeded event goes: its photos are ready with no object in S3."""
    from tests.made_events import remove_events

    remove_events(database_url, [event_id])


def _search() -> list[tuple[str, str]]:
    if not STACK_OUTPUTS.exists():
        return [("bibs: search at 10,000 photos", "stack not deployed")]
    import requests
    from photostack.config import get_settings
    from photostack.photo.v1 import photo_pb2 as pb
    from photostack.photo.v1 import photo_pb2_grpc as pb_grpc

    from tests.identity import STACK_SIDECAR, bearer, person, secure_channel

    database_url = get_settings().database_url
    started = time.perf_counter()
    event_id, _ = _seed(database_url)
    rows = [(f"bibs: seeding {PHOTOS} photos, {2 * PHOTOS} bibs (SQL)",
             f"{time.perf_counter() - started:.1f} s")]
    rng = random.Random(5)
    try:
        viewer = bearer(person("bench-viewer", "customer"))
        samples, found = [], 0
        with secure_channel(STACK_SIDECAR, "photostack-photos") as channel:
            stub = pb_grpc.PhotoServiceStub(channel)
            stub.SearchBibs(pb.SearchBibsRequest(event_id=event_id, number="1"), timeout=10, metadata=viewer)
            for _ in range(300):
                number = str(rng.randint(1, NUMBERS))
                request = pb.SearchBibsRequest(event_id=event_id, number=number)
                t = time.perf_counter()
                found += len(stub.SearchBibs(request, timeout=10, metadata=viewer).matches)
                samples.append(time.perf_counter() - t)
        rows.append((f"bibs: SearchBibs straight at the sidecar (gRPC), {PHOTOS} photos",
                     f"{summary_ms(samples)}; {found / len(samples):.1f} photos per answer"))

        outputs = json.loads(STACK_OUTPUTS.read_text())
        base = outputs["PhotosApiUrl"].rstrip("/")
        headers = _customer(outputs["UsersApiUrl"].rstrip("/"))
        http = requests.Session()
        url = f"{base}/events/{event_id}/photos"
        http.get(url, params={"bib": "1"}, headers=headers, timeout=60).raise_for_status()  # warm function
        samples = []
        for _ in range(40):
            t = time.perf_counter()
            answer = http.get(url, params={"bib": str(rng.randint(1, NUMBERS))}, headers=headers, timeout=60)
            answer.raise_for_status()
            samples.append(time.perf_counter() - t)
        rows.append((f"bibs: GET /events/{{id}}/photos?bib= via API Gateway, {PHOTOS} photos",
                     f"{summary_ms(samples)} (with presigned derivative URLs)"))
    finally:
        _drop(database_url, event_id)
    return rows


def run() -> list[tuple[str, str]]:
    return _indexing() + _search()


if __name__ == "__main__":
    for metric, value in run():
        print(f"  {metric:<68} {value}")
