"""What service identity costs per sidecar call: plaintext + asserted caller vs mTLS + verified token.

    .venv/bin/python -m tests.bench.bench_identity      (or through `make bench`)

Two sidecar processes on the same Postgres and Redis, one GetPhoto (cache hit) called
alternately on each, in batches, from this process:

- before: plaintext, the caller asserted by the request (tests/bench/plaintext_sidecar.py,
  the old protocol, benchmark only);
- after: mutual TLS with Consul Connect certificates (photostack-photos calling
  photo-sidecar), the intention checked (cached), the person's access token verified.

Both use long-lived channels, as a warm function does: the TLS handshake is paid once per
channel, so the rows are the per-call cost. A last row measures the handshake itself (a new
channel per call).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT, ROOT / "layers" / "core" / "python"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import grpc  # noqa: E402
from photostack.config import get_settings  # noqa: E402
from photostack.photo.v1 import photo_pb2 as pb  # noqa: E402
from photostack.photo.v1 import photo_pb2_grpc as pb_grpc  # noqa: E402
from photostack.rpc import channels  # noqa: E402

from infra.db.migrate import migrate  # noqa: E402
from tests.identity import bearer, connect_identity, person, photo_client, resolver  # noqa: E402
from tests.sidecar_process import SidecarProcess, free_port, serving  # noqa: E402

BATCHES = 10
PER_BATCH = 40


def _pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] * 1000


def _rows(label: str, samples: list[float]) -> list[tuple[str, str]]:
    n = len(samples)
    return [(f"identity: {label}, p50 (n={n})", f"{_pct(samples, 50):.2f} ms"),
            (f"identity: {label}, p95 (n={n})", f"{_pct(samples, 95):.2f} ms")]


def _plaintext_sidecar() -> tuple[subprocess.Popen[bytes], str]:
    port, health_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.plaintext_sidecar", str(port), str(health_port)],
        cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not serving(f"127.0.0.1:{health_port}"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the plaintext benchmark sidecar did not start")
        time.sleep(0.1)
    return proc, f"127.0.0.1:{port}"


def _timed(call: grpc.UnaryUnaryMultiCallable, request: object, metadata: object) -> float:
    t = time.perf_counter()
    call(request, timeout=5, metadata=metadata)
    return time.perf_counter() - t


def run() -> list[tuple[str, str]]:
    migrate(get_settings().database_url, ["photos"])
    after = SidecarProcess(workers=8).start()
    before, plain_address = _plaintext_sidecar()
    try:
        owner = person(f"bench-id-{uuid.uuid4().hex[:8]}", "photographer")
        seed = photo_client(after)
        event = seed.create_event(pb.CreateEventRequest(name="identity bench", date="2025-06-01",
                                                        visibility=pb.VISIBILITY_PUBLIC), user=owner)
        photo = seed.reserve_photo(pb.ReservePhotoRequest(event_id=event.id, content_type="image/jpeg",
                                                          declared_bytes=1000), user=owner)
        request = pb.GetPhotoRequest(photo_id=photo.id)
        material = connect_identity("photostack-photos").current()
        where = resolver(after)
        where.instances()
        pins = where.pinned(after.address)
        assert pins is not None
        asserted = (("x-bench-caller", f"{owner.user_id}|photographer"),)
        verified = bearer(owner)
        with grpc.insecure_channel(plain_address) as plain, \
                channels.secure_channel(after.address, material, pins, after.service) as tls:
            plain_call = pb_grpc.PhotoServiceStub(plain).GetPhoto
            tls_call = pb_grpc.PhotoServiceStub(tls).GetPhoto
            for _ in range(30):  # connect, warm the caches (photo, intention, signing keys)
                _timed(plain_call, request, asserted)
                _timed(tls_call, request, verified)
            old: list[float] = []
            new: list[float] = []
            for _ in range(BATCHES):  # alternate, so drift on a shared machine hits both alike
                old += [_timed(plain_call, request, asserted) for _ in range(PER_BATCH)]
                new += [_timed(tls_call, request, verified) for _ in range(PER_BATCH)]
        handshakes: list[float] = []
        for _ in range(30):
            t = time.perf_counter()
            with channels.secure_channel(after.address, material, pins, after.service) as fresh:
                pb_grpc.PhotoServiceStub(fresh).GetPhoto(request, timeout=5, metadata=verified)
            handshakes.append(time.perf_counter() - t)
    finally:
        before.terminate()
        before.wait(10)
        after.stop()
    added50 = _pct(new, 50) - _pct(old, 50)
    added95 = _pct(new, 95) - _pct(old, 95)
    return (_rows("GetPhoto before: plaintext, caller asserted", old)
            + _rows("GetPhoto after: mTLS + intention + token verified", new)
            + [("identity: added per call, p50 / p95", f"{added50:+.2f} ms / {added95:+.2f} ms")]
            + _rows("GetPhoto on a new mTLS channel (handshake included)", handshakes))


if __name__ == "__main__":
    for metric, value in run():
        print(f"{metric:75s} {value}")
