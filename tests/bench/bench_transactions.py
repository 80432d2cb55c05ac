"""Transactions benchmarks: orders per second straight against the ledger code, and POST /orders
through API Gateway.

    .venv/bin/python -m tests.bench.bench_transactions      (or through `make bench`)

The ledger rows run the real service (PostgreSQL schema ``transactions``) with an
in-memory photo catalog, 1, 8 and 32 client processes (as concurrent Lambda
instances are: threads would add GIL waits while row locks are held) each with its
own connection and its own customer, for a fixed time per level (about 20 s in all). Every order
buys one photo, so each is a full debit / credit / fee / entitlement transaction.
All orders lock the platform revenue account of their currency, which is what
bounds the rate as clients are added. The API rows need the deployed stack
(``.state/stack-outputs.json``) and a running photo sidecar; without them they say so.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT, ROOT / "layers" / "core" / "python", ROOT / "functions" / "transactions"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from photostack.config import get_settings  # noqa: E402
from photostack.db import Database  # noqa: E402
from transactions.catalog import CatalogPhoto  # noqa: E402
from transactions.domain import OrderRequest, TopupRequest  # noqa: E402
from transactions.presign import S3Presigner  # noqa: E402
from transactions.provider import SimulatedProvider  # noqa: E402
from transactions.services import TransactionsService  # noqa: E402

from infra.db.migrate import migrate  # noqa: E402
from tests.catalog_fakes import InMemoryCatalog, original_key  # noqa: E402

STACK_OUTPUTS = ROOT / ".state" / "stack-outputs.json"
LEVELS = (1, 8, 32)
SECONDS_PER_LEVEL = 4.0
SECRET = "bench-webhook-secret-0123456789abcdefghij"


def _pct(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0] * 1000 if samples else float("nan")
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] * 1000


def _fund(service: TransactionsService, user: str, amount: int) -> None:
    payment = service.start_topup(user, f"bench-{uuid.uuid4().hex}", TopupRequest(amount, "EUR"))
    hook = SimulatedProvider(SECRET).webhook(payment.body["payment_id"])
    service.handle_payment_webhook(hook.headers["X-Photostack-Signature"], hook.body)


def _client(dsn: str, fee_bps: int, customer: str, photographers: list[str], seed: int, start_at: float,
            stop_at: float) -> list[float]:
    """One client process: its own connection, ordering one new photo after another until ``stop_at``."""
    db = Database(dsn, schema="transactions", maxconn=1)
    catalog = InMemoryCatalog()
    service = _service(db, catalog, fee_bps)
    rng = random.Random(seed)
    latencies: list[float] = []
    time.sleep(max(0.0, start_at - time.time()))
    try:
        while time.time() < stop_at:
            pid, event = str(uuid.uuid4()), str(uuid.uuid4())
            catalog.add(CatalogPhoto(pid, event, rng.choice(photographers), rng.randint(50, 150), "EUR", True,
                                     original_key(event, pid)))
            t = time.perf_counter()
            service.place_order(customer, f"bench-{uuid.uuid4().hex}", OrderRequest((pid,)))
            latencies.append(time.perf_counter() - t)
    finally:
        db.close()
    return latencies


def _service(db: Database, catalog: InMemoryCatalog, fee_bps: int) -> TransactionsService:
    return TransactionsService(db, catalog, S3Presigner(None), fee_bps=fee_bps, webhook_secret=SECRET,
                               uploads_bucket="bench", presign_ttl_s=60)


def _level(service: TransactionsService, dsn: str, fee_bps: int, clients: int, photographers: list[str],
           seconds: float) -> tuple[int, float, list[float]]:
    """``clients`` processes (as concurrent Lambda instances are), each with its own funded customer."""
    customers = [f"bench-c-{uuid.uuid4().hex[:12]}" for _ in range(clients)]
    for c in customers:
        _fund(service, c, 1_000_000)
    # Started ahead of time so that process start-up is not measured.
    start_at = time.time() + 1.0 + 0.05 * clients
    stop_at = start_at + seconds
    context = multiprocessing.get_context("fork")
    with context.Pool(clients) as pool:
        results = pool.starmap(_client, [(dsn, fee_bps, c, photographers, i, start_at, stop_at)
                                         for i, c in enumerate(customers)])
    flat = [x for per in results for x in per]
    return len(flat), stop_at - start_at, flat


def _violations(db: Database) -> int:
    with db.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM (SELECT 1 FROM postings GROUP BY entry_id, currency"
            "   HAVING sum(amount_minor) <> 0) e)"
            " + (SELECT count(*) FROM (SELECT 1 FROM accounts GROUP BY currency"
            "   HAVING sum(balance_minor) <> 0) c)"
            " + (SELECT count(*) FROM (SELECT a.id FROM accounts a"
            "   LEFT JOIN postings p ON p.account_id = a.id"
            "   GROUP BY a.id HAVING a.balance_minor <> coalesce(sum(p.amount_minor), 0)) b)"
            " + (SELECT count(*) FROM accounts WHERE kind = 'wallet' AND balance_minor < 0) AS n")
        return int(cur.fetchone()["n"])


def ledger_rows(seconds: float = SECONDS_PER_LEVEL) -> list[tuple[str, str]]:
    settings = get_settings()
    migrate(settings.database_url, ["transactions"])
    db = Database(settings.database_url, schema="transactions", maxconn=max(LEVELS) + 2)
    service = _service(db, InMemoryCatalog(), settings.platform_fee_bps)
    photographers = [f"bench-p-{uuid.uuid4().hex[:12]}" for _ in range(16)]
    rows: list[tuple[str, str]] = []
    try:
        for clients in LEVELS:
            count, elapsed, samples = _level(service, settings.database_url, settings.platform_fee_bps,
                                             clients, photographers, seconds)
            rows.append((f"transactions: orders/s against the ledger, {clients} client(s)",
                         f"{count / elapsed:.0f}/s  (p50 {_pct(samples, 50):.1f} ms, "
                         f"p95 {_pct(samples, 95):.1f} ms, n={count})"))
        rows.append(("transactions: ledger invariant violations after the bench", str(_violations(db))))
    finally:
        db.close()
    return rows


def api_rows(requests_n: int = 50) -> list[tuple[str, str]]:
    if not STACK_OUTPUTS.exists():
        return [("transactions: POST /orders via API Gateway", "stack not deployed")]
    outputs = json.loads(STACK_OUTPUTS.read_text())
    base = outputs.get("TransactionsApiUrl", "").rstrip("/")
    if not base:
        return [("transactions: POST /orders via API Gateway", "TransactionsApiUrl not in stack outputs")]
    try:
        samples = _api_samples(base, requests_n)
    except Exception as exc:  # a bench row, not a crash: say why there is no number
        return [("transactions: POST /orders via API Gateway", f"not measured: {exc}")]
    return [
        (f"transactions: POST /orders via API Gateway, p50 (n={requests_n})", f"{_pct(samples, 50):.1f} ms"),
        (f"transactions: POST /orders via API Gateway, p95 (n={requests_n})", f"{_pct(samples, 95):.1f} ms"),
    ]


def _api_samples(base: str, n: int) -> list[float]:
    import requests
    from photostack.tokens import issue_access_token

    from tests.e2e.transactions_setup import priced_photos
    from tests.identity import STACK_SIDECAR

    settings = get_settings()
    photos = priced_photos(STACK_SIDECAR, f"bench-p-{uuid.uuid4().hex[:10]}", n + 1, price_minor=100)
    buyer = f"bench-c-{uuid.uuid4().hex[:12]}"
    headers = {"Authorization": "Bearer " + issue_access_token(buyer, "customer")[0]}
    http = requests.Session()
    r = http.post(f"{base}/wallet/topups", json={"amount_minor": 100 * (n + 1), "currency": "EUR"},
                  headers={**headers, "Idempotency-Key": f"bench-{uuid.uuid4().hex}"}, timeout=30)
    r.raise_for_status()
    hook = SimulatedProvider(settings.payment_webhook_secret).webhook(r.json()["payment_id"])
    confirmed = http.post(f"{base}/webhooks/payments", data=hook.body, headers=hook.headers, timeout=30)
    confirmed.raise_for_status()
    samples: list[float] = []
    for i, pid in enumerate(photos):
        t = time.perf_counter()
        r = http.post(f"{base}/orders", json={"photo_ids": [pid]},
                      headers={**headers, "Idempotency-Key": f"bench-{uuid.uuid4().hex}"}, timeout=30)
        if r.status_code != 201:
            raise RuntimeError(f"POST /orders answered {r.status_code}: {r.text[:200]}")
        if i:  # the first one warms the function
            samples.append(time.perf_counter() - t)
    return samples


def run() -> list[tuple[str, str]]:
    return ledger_rows() + api_rows()


if __name__ == "__main__":
    for metric, value in run():
        print(f"{metric:60s} {value}")

