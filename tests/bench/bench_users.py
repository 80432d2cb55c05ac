"""Users benchmarks: the argon2id cost of a sign-in, and GET /users/me through API Gateway.

    .venv/bin/python -m tests.bench.bench_users      (or through `make bench`)

The argon2 rows use the function's configured parameters (PHOTOSTACK_ARGON2_*),
so they are the CPU a real login spends hashing. The API rows need the deployed
stack (`.state/stack-outputs.json`); without it they say so instead of a number.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT / "layers" / "core" / "python", ROOT / "functions" / "users"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from users.config import get_users_settings  # noqa: E402
from users.passwords import Passwords  # noqa: E402

STACK_OUTPUTS = ROOT / ".state" / "stack-outputs.json"


def _ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.1f} ms"


def _pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] * 1000


def argon2_rows(rounds: int = 10) -> list[tuple[str, str]]:
    s = get_users_settings()
    pw = Passwords(time_cost=s.argon2_time_cost, memory_kib=s.argon2_memory_kib,
                   parallelism=s.argon2_parallelism)
    password = "correct horse battery staple"
    hashes, verifies = [], []
    stored = pw.hash(password)
    for _ in range(rounds):
        t = time.perf_counter()
        pw.hash(password)
        hashes.append(time.perf_counter() - t)
        t = time.perf_counter()
        assert pw.verify(stored, password)
        verifies.append(time.perf_counter() - t)
    params = f"m={s.argon2_memory_kib} KiB, t={s.argon2_time_cost}, p={s.argon2_parallelism}"
    return [
        ("users: argon2id parameters", params),
        ("users: argon2id hash (register, rehash), median", _ms(hashes)),
        ("users: argon2id verify (each login), median", _ms(verifies)),
    ]


def api_rows(requests_n: int = 50) -> list[tuple[str, str]]:
    if not STACK_OUTPUTS.exists():
        return [("users: GET /users/me via API Gateway", "stack not deployed")]
    import requests

    base = json.loads(STACK_OUTPUTS.read_text())["UsersApiUrl"].rstrip("/")
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    password = "bench password for photostack"
    http = requests.Session()
    r = http.post(f"{base}/auth/register", json={"email": email, "password": password,
                                                 "display_name": "Bench", "role": "customer"}, timeout=30)
    r.raise_for_status()
    logins = []
    for _ in range(3):
        t = time.perf_counter()
        r = http.post(f"{base}/auth/login", json={"email": email, "password": password}, timeout=30)
        logins.append(time.perf_counter() - t)
        r.raise_for_status()
    headers = {"Authorization": "Bearer " + r.json()["access_token"]}
    http.get(f"{base}/users/me", headers=headers, timeout=30).raise_for_status()  # warm
    samples = []
    for _ in range(requests_n):
        t = time.perf_counter()
        http.get(f"{base}/users/me", headers=headers, timeout=30).raise_for_status()
        samples.append(time.perf_counter() - t)
    return [
        ("users: POST /auth/login via API Gateway, median of 3", _ms(logins)),
        (f"users: GET /users/me via API Gateway, p50 (n={requests_n})", f"{_pct(samples, 50):.1f} ms"),
        (f"users: GET /users/me via API Gateway, p95 (n={requests_n})", f"{_pct(samples, 95):.1f} ms"),
    ]


def run() -> list[tuple[str, str]]:
    return argon2_rows() + api_rows()


if __name__ == "__main__":
    for metric, value in run():
        print(f"{metric:60s} {value}")
