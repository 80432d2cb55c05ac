"""Load benchmark: the emulated API path under `ab -c 32` (ApacheBench, Debian's apache2-utils).

    .venv/bin/python -m tests.bench.bench_load      (or through `make bench`; needs the deployed stack)
    .venv/bin/python -m tests.bench.bench_load --rows probe,users     (some rows; see --help)

Rows, each printed beside the trivial-function ceiling (GET /probe/ok) measured in the same run:
- warm `ab -c 32` on GET /probe/ok, GET /users/me and GET /events/{id}/photos?limit=50:
  requests/s and p50/p95/p99 (ab's own percentiles; non-2xx answers fail the row);
- the first burst of 32 on the photos page with no environment started (the photos function's
  environments are replaced first by a configuration change, as a deploy would);
- gateway p50 - straight-to-sidecar p50 for the same 50-photo page, sequential, keep-alive.

ab is a client nobody here wrote; it counts answers of differing length as "Failed requests"
(the photos page carries fresh presigned URLs), so only "Non-2xx responses" count as errors.
The machine is shared: compare rows of one run with each other, not across runs.

The photos page's event is seeded ready without objects in S3 (bench_photos._seed): the bench
removes it when it ends, and at its start what a killed run left, so that the storage check of
the next ``make up`` does not take its photos for lost ones.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT, ROOT / "layers" / "core" / "python"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from tests.bench.procstat import stack_cpu_s  # noqa: E402
from tests.bench.stats import NotMeasured, Row  # noqa: E402
from tests.made_events import MadeEvents  # noqa: E402

STACK_OUTPUTS = ROOT / ".state" / "stack-outputs.json"
CONCURRENCY = 32
WARM_SECONDS = 15  # each warm row runs this long (ab -t), so a slow stack does not stretch the bench
PAGE = 50
SEQUENTIAL = 200
PHOTOS_FUNCTION = "photostack-photos"
ROWS = frozenset({"probe", "users", "photos", "burst", "gateway", "cpu"})


@dataclass(frozen=True)
class AbResult:
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    complete: int

    def text(self) -> str:
        figures = (f"{self.requests_per_s:.1f} req/s, p50 {self.p50_ms:.0f} ms, p95 {self.p95_ms:.0f} ms, "
                   f"p99 {self.p99_ms:.0f} ms, max {self.max_ms:.0f} ms (n={self.complete})")
        # A lost request fails the row (and `make bench`), with the figures kept beside the reason.
        return f"not measured: {self.non_2xx} answers not 2xx; {figures}" if self.non_2xx else figures


class BenchError(NotMeasured):
    """A row that could not be measured: the bench fails instead of printing a number."""


def parse_ab(output: str) -> AbResult:
    """ab's summary: requests/s, the percentile table, errors."""
    def number(pattern: str) -> float:
        found = re.search(pattern, output, re.MULTILINE)
        if found is None:
            raise BenchError(f"ab printed no {pattern!r}:\n{output[-2000:]}")
        return float(found.group(1))

    non_2xx = re.search(r"^Non-2xx responses:\s+(\d+)", output, re.MULTILINE)
    return AbResult(
        requests_per_s=number(r"^Requests per second:\s+([\d.]+)"),
        p50_ms=number(r"^\s+50%\s+(\d+)"),
        p95_ms=number(r"^\s+95%\s+(\d+)"),
        p99_ms=number(r"^\s+99%\s+(\d+)"),
        max_ms=number(r"^\s+100%\s+(\d+)"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        complete=int(number(r"^Complete requests:\s+(\d+)")),
    )


def ab(url: str, requests_n: int, concurrency: int = CONCURRENCY, token: str | None = None,
       seconds: int | None = None, allow_errors: bool = False) -> AbResult:
    binary = shutil.which("ab")
    if binary is None:
        raise BenchError("ab not found: `make setup` installs Debian's apache2-utils")
    command = [binary, "-q", "-n", str(requests_n), "-c", str(concurrency), "-s", "60"]
    if seconds:
        command += ["-t", str(seconds)]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise BenchError(f"ab exited {done.returncode}: {done.stderr.strip()[-500:]}")
    result = parse_ab(done.stdout)
    if result.non_2xx and not allow_errors:
        raise BenchError(f"{result.non_2xx} of {result.complete} answers were not 2xx from {url}")
    return result


# --------------------------------------------------------------------------- fixtures
def _user_token(users_api: str) -> str:
    import requests

    email = f"bench-load-{uuid.uuid4().hex[:12]}@example.com"
    password = "bench password for photostack"
    requests.post(f"{users_api}/auth/register", json={"email": email, "password": password,
                                                      "display_name": "Bench", "role": "customer"},
                  timeout=30).raise_for_status()
    login = requests.post(f"{users_api}/auth/login", json={"email": email, "password": password}, timeout=30)
    login.raise_for_status()
    return str(login.json()["access_token"])


def _photos_event(made: MadeEvents) -> tuple[str, Any]:
    """A public event of PAGE ready photos in the stack's database (seeded through the stack's
    sidecar as the photos API and the upload function; recorded in ``made``) and a timer of the
    same page straight to the sidecar, as a viewer."""
    from photostack.photo.v1 import photo_pb2 as pb
    from photostack.photo.v1 import photo_pb2_grpc as pb_grpc

    from tests.bench.bench_photos import _seed
    from tests.identity import STACK_SIDECAR, bearer, person, secure_channel

    channel = secure_channel(STACK_SIDECAR, "photostack-photos")
    with secure_channel(STACK_SIDECAR, "photostack-upload") as pipeline:
        stub = pb_grpc.PhotoServiceStub(channel)
        owner = bearer(person(f"bench-load-{uuid.uuid4().hex[:8]}", "photographer"))
        event_id = _seed(stub, pb_grpc.PhotoServiceStub(pipeline), owner, made)
    viewer = bearer(person("bench-load-viewer", "customer"))
    request = pb.ListEventPhotosRequest(event_id=event_id, limit=PAGE)

    def direct() -> float:
        started = time.perf_counter()
        reply = stub.ListEventPhotos(request, timeout=5, metadata=viewer)
        elapsed = time.perf_counter() - started
        if len(reply.photos) != PAGE:
            raise BenchError(f"the sidecar listed {len(reply.photos)} photos, not {PAGE}")
        return elapsed

    return event_id, direct


def _cpu_s() -> tuple[float, float]:
    """CPU seconds used so far by the stack's LocalStack (its pid file) and by its function
    environments (its runtime.py children and their workers). Other LocalStacks on the machine
    are not counted."""
    used = stack_cpu_s(ROOT / ".state" / "run")
    if not used["LocalStack"]:  # a running LocalStack has used some: its pid file is stale or gone
        raise BenchError("LocalStack (.state/run/localstack.pid) is not running")
    return used["LocalStack"], used["function environments"]


def _sequential(call: Any, n: int) -> list[float]:
    return [call() for _ in range(n)]


def _restart_environments(function_name: str) -> None:
    """Replace a function's environments (a configuration change is a new version to LocalStack,
    which stops the old environments) and put the configuration back as it was."""
    from tests.conftest import aws_client

    lam = aws_client("lambda")
    original = lam.get_function_configuration(FunctionName=function_name).get("Description", "")
    for description in (f"{original} (bench {uuid.uuid4().hex[:6]})".strip(), original):
        lam.update_function_configuration(FunctionName=function_name, Description=description)
        lam.get_waiter("function_updated_v2").wait(FunctionName=function_name, WaiterConfig={"Delay": 0.2})


def run(rows: frozenset[str] | None = None) -> list[Row]:
    """The load rows; ``rows`` picks some of ROWS (the probe ceiling is measured in every run, as
    the reference each row is printed beside). The seeded event is removed when it ends."""
    from photostack.config import get_settings

    from tests.bench.bench_photos import sweep_leftovers

    database_url = get_settings().database_url
    sweep_leftovers(database_url)
    made = MadeEvents()
    try:
        return _rows(rows, made)
    finally:
        made.remove(database_url)


def _rows(rows: frozenset[str] | None, made: MadeEvents) -> list[Row]:
    import requests
    from photostack.tokens import issue_access_token

    want = ROWS if rows is None else rows
    if unknown := sorted(want - ROWS):
        raise BenchError(f"no such load row: {', '.join(unknown)} (rows: {', '.join(sorted(ROWS))})")
    if not STACK_OUTPUTS.exists():
        raise BenchError("the stack is not deployed: run `make up`")
    outputs = json.loads(STACK_OUTPUTS.read_text())
    probe_url = f"{outputs['ProbeApiUrl'].rstrip('/')}/probe/ok"
    users_url = f"{outputs['UsersApiUrl'].rstrip('/')}/users/me"
    user_token = _user_token(outputs["UsersApiUrl"].rstrip("/")) if "users" in want else None
    page = bool(want & {"photos", "burst", "gateway"})
    warm: list[tuple[str, str | None]] = [(probe_url, None)]
    if "users" in want:
        warm.append((users_url, user_token))
    if page:
        event_id, direct = _photos_event(made)
        viewer_token = issue_access_token("bench-load-viewer", "customer")[0]
        photos_url = f"{outputs['PhotosApiUrl'].rstrip('/')}/events/{event_id}/photos?limit={PAGE}"
        warm.append((photos_url, viewer_token))

    c = CONCURRENCY
    out: list[Row] = []
    if "burst" in want:  # before anything else touches the photos function's fresh environments
        _restart_environments(PHOTOS_FUNCTION)
        burst = ab(photos_url, CONCURRENCY, token=viewer_token, allow_errors=True)

    for url, token in warm:
        ab(url, CONCURRENCY * 4, token=token, allow_errors=True)  # warm: every environment in use
    cpu_before = _cpu_s()
    ceiling = ab(probe_url, 50_000, seconds=WARM_SECONDS, allow_errors=True)
    cpu_after = _cpu_s()
    ls_ms, fn_ms = ((after - before) * 1000 / ceiling.complete
                    for before, after in zip(cpu_before, cpu_after, strict=True))
    beside = (f"ceiling, same run: GET /probe/ok (a function that does nothing) {ceiling.requests_per_s:.1f} "
              f"req/s, p99 {ceiling.p99_ms:.0f} ms")
    if "probe" in want:
        out.append(Row(f"load: ab -c {c} GET /probe/ok, warm (target >= 150 req/s)", ceiling.text(),
                       "the trivial-function ceiling of this run"))
    if "users" in want:
        users = ab(users_url, 50_000, token=user_token, seconds=WARM_SECONDS, allow_errors=True)
        out.append(Row(f"load: ab -c {c} GET /users/me, warm (target p99 <= 250 ms)", users.text(), beside))
    if "photos" in want:
        photos = ab(photos_url, 50_000, token=viewer_token, seconds=WARM_SECONDS, allow_errors=True)
        out.append(Row(f"load: ab -c {c} GET /events/{{id}}/photos?limit={PAGE}, warm "
                       "(target >= 100 req/s, p99 <= 500 ms)", photos.text(), beside))
    if "burst" in want:
        out.append(Row(f"load: first burst of {c} on the photos page, no environment started "
                       "(target p99 <= 2 s)", burst.text(), beside))
    if "gateway" in want:
        http = requests.Session()
        headers = {"Authorization": f"Bearer {viewer_token}"}

        def through_gateway() -> float:
            started = time.perf_counter()
            http.get(photos_url, headers=headers, timeout=30).raise_for_status()
            return time.perf_counter() - started

        _sequential(through_gateway, 10)
        _sequential(direct, 10)
        gateway_s = _sequential(through_gateway, SEQUENTIAL)
        direct_s = _sequential(direct, SEQUENTIAL)
        gateway_p50, direct_p50 = statistics.median(gateway_s) * 1000, statistics.median(direct_s) * 1000
        probe_s = _sequential(lambda: _timed_get(http, probe_url), SEQUENTIAL)
        probe_p50 = statistics.median(probe_s) * 1000
        difference = f"{gateway_p50 - direct_p50:.1f} ms ({gateway_p50:.1f} - {direct_p50:.1f})"
        out.append(Row(f"load: photos page p50, gateway - straight to the sidecar (target <= 10 ms, "
                       f"n={SEQUENTIAL})", difference,
                       f"GET /probe/ok p50 through the same gateway: {probe_p50:.1f} ms"))
    if "cpu" in want:
        out.append(Row(f"load: CPU per GET /probe/ok under ab -c {c}: LocalStack + function environments",
                       f"{ls_ms:.1f} + {fn_ms:.1f} ms",
                       "CPU time of this stack's processes (/proc), not wall time"))
    return out


def _timed_get(http: Any, url: str) -> float:
    started = time.perf_counter()
    http.get(url, timeout=30).raise_for_status()
    return time.perf_counter() - started


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="The load rows of make bench (ab -c 32).")
    parser.add_argument("--rows", default=",".join(sorted(ROWS)),
                        help=f"comma-separated, of: {', '.join(sorted(ROWS))} (default: all)")
    chosen = frozenset(name.strip() for name in parser.parse_args().rows.split(",") if name.strip())
    for row in run(chosen):
        print(f"{row.metric:<90} {row.value}\n{'':<90} reference: {row.reference}")
