"""Photos benchmarks: ListEventPhotos straight to the sidecar (cache hit vs miss, and
under a bounded concurrent load), and GET /events/{id}/photos through API Gateway.

    .venv/bin/python -m tests.bench.bench_photos      (or through `make bench`)

The load comes from this process; the sidecar runs as its own process on loopback
(started here on a free port, registered in Consul under a name of its own; called over mTLS
as the photos API with a viewer's token), against the real Postgres and Redis.
A "miss" drops the event's cache entry before each call, so the call reads Postgres
and fills the cache again. The API row needs the deployed stack.

The seeded event's photos are ready with no object in S3 (only their rows): the bench removes
them when it ends, and at its start what a killed run left (``sweep_leftovers``), so that the
storage check of the next ``make up`` does not take them for lost photos.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT, ROOT / "layers" / "core" / "python"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import redis  # noqa: E402
from photostack.config import get_settings  # noqa: E402
from photostack.photo.v1 import photo_pb2 as pb  # noqa: E402
from photostack.photo.v1 import photo_pb2_grpc as pb_grpc  # noqa: E402

from infra.db.migrate import migrate  # noqa: E402
from tests.identity import bearer, person, secure_channel  # noqa: E402
from tests.made_events import MadeEvents, sweep  # noqa: E402
from tests.sidecar_process import SidecarProcess  # noqa: E402

STACK_OUTPUTS = ROOT / ".state" / "stack-outputs.json"
PHOTOS = 50
PAGE = 50
SEEDED_EVENT = "Bench"  # the name _seed gives its events; their owners are bench-...


def _pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] * 1000


def _rows(label: str, samples: list[float]) -> list[tuple[str, str]]:
    n = len(samples)
    return [
        (f"photos: {label}, p50 (n={n})", f"{_pct(samples, 50):.2f} ms"),
        (f"photos: {label}, p95 (n={n})", f"{_pct(samples, 95):.2f} ms"),
    ]


def _seed(stub: pb_grpc.PhotoServiceStub, upload: pb_grpc.PhotoServiceStub,
          owner: tuple[tuple[str, str], ...], made: MadeEvents) -> str:
    """An event of PHOTOS ready photos: reserved by ``owner`` (their token) through ``stub`` (as the
    photos API), registered through ``upload`` (as the upload function); recorded in ``made``
    before its first photo, for the caller to remove."""
    event = stub.CreateEvent(
        pb.CreateEventRequest(name=SEEDED_EVENT, date="2025-06-01", visibility=pb.VISIBILITY_PUBLIC),
        timeout=5, metadata=owner,
    )
    made.add(event.id)
    for _ in range(PHOTOS):
        photo = stub.ReservePhoto(
            pb.ReservePhotoRequest(event_id=event.id, content_type="image/jpeg", declared_bytes=2_000_000),
            timeout=5, metadata=owner,
        )
        upload.RegisterDerivatives(
            pb.RegisterDerivativesRequest(
                photo_id=photo.id,
                width=6000,
                height=4000,
                original_bytes=2_000_000,
                sha256="ab" * 32,
                camera="Bench",
                derivatives=[
                    pb.Derivative(
                        kind=k,
                        key=f"{k}/{event.id}/{photo.id}.jpg",
                        width=w,
                        height=w * 2 // 3,
                        bytes=w * 50,
                        content_type="image/jpeg",
                    )
                    for k, w in (("thumb", 400), ("web", 1600))
                ],
            ),
            timeout=5,
        )
    return str(event.id)


def sweep_leftovers(database_url: str) -> int:
    """The seeded events of runs killed before they removed them (this bench's and bench_load's).
    Benches run under the stack lock, one at a time: no other run's event is in use."""
    return sweep(database_url, name=SEEDED_EVENT, owner_like="bench-%", older_than=timedelta(0))


def sidecar_rows(made: MadeEvents, calls: int = 300, threads: int = 4) -> list[tuple[str, str]]:
    settings = get_settings()
    migrate(settings.database_url, ["photos"])
    cache = redis.Redis.from_url(settings.redis_url)
    proc = SidecarProcess(workers=8).start()
    try:
        with secure_channel(proc, "photostack-photos") as channel, \
                secure_channel(proc, "photostack-upload") as pipeline:
            stub = pb_grpc.PhotoServiceStub(channel)
            owner = bearer(person(f"bench-{uuid.uuid4().hex[:8]}", "photographer"))
            event_id = _seed(stub, pb_grpc.PhotoServiceStub(pipeline), owner, made)
            viewer = bearer(person("bench-viewer", "customer"))
            request = pb.ListEventPhotosRequest(event_id=event_id, limit=PAGE)
            assert len(stub.ListEventPhotos(request, timeout=5, metadata=viewer).photos) == PHOTOS

            def timed() -> float:
                t = time.perf_counter()
                stub.ListEventPhotos(request, timeout=5, metadata=viewer)
                return time.perf_counter() - t

            for _ in range(20):
                timed()
            hits = [timed() for _ in range(calls)]
            misses = []
            for _ in range(calls):
                cache.delete(f"ps:event:{event_id}")
                misses.append(timed())
            with ThreadPoolExecutor(threads) as pool:
                loaded = list(pool.map(lambda _: timed(), range(calls * 2)))
    finally:
        proc.stop()
    return (
        _rows(f"ListEventPhotos ({PAGE} photos) straight to the sidecar, cache hit", hits)
        + _rows(f"ListEventPhotos ({PAGE} photos) straight to the sidecar, cache miss", misses)
        + _rows(f"ListEventPhotos, cache hit, {threads} concurrent callers", loaded)
        + [("photos: event id used (for the API Gateway row)", event_id)]
    )


def api_rows(event_id: str, requests_n: int = 50) -> list[tuple[str, str]]:
    label = "GET /events/{id}/photos via API Gateway"
    if not STACK_OUTPUTS.exists():
        return [(f"photos: {label}", "stack not deployed")]
    import requests
    from photostack.tokens import issue_access_token

    base = json.loads(STACK_OUTPUTS.read_text())["PhotosApiUrl"].rstrip("/")
    headers = {"Authorization": "Bearer " + issue_access_token("bench-viewer", "customer")[0]}
    http = requests.Session()
    url = f"{base}/events/{event_id}/photos?limit={PAGE}"
    for _ in range(3):
        http.get(url, headers=headers, timeout=30).raise_for_status()  # warm the function and the cache
    samples = []
    for _ in range(requests_n):
        t = time.perf_counter()
        http.get(url, headers=headers, timeout=30).raise_for_status()
        samples.append(time.perf_counter() - t)
    return _rows(f"{label} ({PAGE} photos, presigned), cache hit", samples)


def run() -> list[tuple[str, str]]:
    database_url = get_settings().database_url
    sweep_leftovers(database_url)
    made = MadeEvents()
    try:
        rows = sidecar_rows(made)
        return rows + api_rows(rows[-1][1])
    finally:
        made.remove(database_url)


if __name__ == "__main__":
    for metric, value in run():
        print(f"{metric:75s} {value}")
