"""Concurrency: parallel orders never overdraw, one key makes one order, crashes leave nothing partial."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from photostack.db import Database
from transactions.domain import OrderRequest
from transactions.errors import TransactionsError
from transactions.ledger import AccountRef

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


def run_parallel(n: int, task: Callable[[int], Any]) -> list[Any]:
    """Run ``task(i)`` in ``n`` threads released together; results or the exceptions they raised."""
    barrier = threading.Barrier(n)

    def go(i: int) -> Any:
        barrier.wait()
        try:
            return task(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


@pytest.fixture
def wide_world(world: Any, database_url: str) -> Any:
    """The world with a pool wide enough for one connection per client thread."""
    db = Database(database_url, schema="transactions", maxconn=60)
    world.service.db = db
    world.service.accounts._db = db
    yield world
    db.close()


def test_60_parallel_orders_never_overdraw_one_wallet(wide_world: Any, violations: Any) -> None:
    w = wide_world
    buyer = w.user("c")
    photographers = [w.user("p") for _ in range(6)]
    w.fund(buyer, 20 * 700)
    photos = [w.photo(photographers[i % 6], 700) for i in range(60)]
    results = run_parallel(60, lambda i: w.order(buyer, photos[i]))
    ok = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, TransactionsError)]
    assert len(ok) == 20 and len(refused) == 40, [r for r in results if not isinstance(r, dict)][:3]
    assert all(r.code == "insufficient_funds" for r in refused)
    assert w.balance(buyer) == 0
    assert sum(w.balance(p, "earnings") for p in photographers) == 20 * (700 - 105)
    assert not any(violations(w.service.db).values())


def test_same_key_sent_concurrently_creates_one_order(wide_world: Any) -> None:
    w = wide_world
    buyer, ph = w.user("c"), w.user("p")
    w.fund(buyer, 5000)
    pid, key = w.photo(ph, 1000), w.key()
    outcomes = run_parallel(24, lambda _: w.service.place_order(buyer, key, OrderRequest((pid,))))
    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert len({o.body["order_id"] for o in outcomes}) == 1
    assert sum(not o.replayed for o in outcomes) == 1
    assert w.balance(buyer) == 4000
    assert len(w.service.list_orders(buyer, None, 50)["orders"]) == 1


def test_same_photo_with_different_keys_concurrently_sells_once(wide_world: Any) -> None:
    w = wide_world
    buyer, ph = w.user("c"), w.user("p")
    w.fund(buyer, 5000)
    pid = w.photo(ph, 1000)
    results = run_parallel(16, lambda _: w.order(buyer, pid))
    assert sum(isinstance(r, dict) for r in results) == 1
    assert all(r.code == "already_owned" for r in results if isinstance(r, TransactionsError))
    assert w.balance(buyer) == 4000


def test_64_clients_over_shared_accounts_keep_every_invariant(world: Any, database_url: str,
                                                              violations: Any) -> None:
    """64 clients at once, four per buyer, all crediting three photographers and the platform.

    Per buyer: the same key twice and the same photo under another key (one order, one
    ownership), a second photo, and a wallet that covers two photos (even buyers) or one
    (odd buyers). Every refusal leaves a sale that counts, so each buyer ends with exactly
    as many orders as the wallet covers, and the ledger with no violation.
    """
    db = Database(database_url, schema="transactions", maxconn=64)
    world.service.db = db
    world.service.accounts._db = db
    try:
        price, net = 500, 500 - 500 * 1500 // 10_000
        photographers = [world.user("p") for _ in range(3)]
        buyers = [world.user("c") for _ in range(16)]
        plans = []
        for b, buyer in enumerate(buyers):
            world.fund(buyer, price * (2 if b % 2 == 0 else 1))
            first = world.photo(photographers[b % 3], price)
            second = world.photo(photographers[(b + 1) % 3], price)
            same_key = world.key()
            plans += [(buyer, first, same_key), (buyer, first, same_key), (buyer, first, world.key()),
                      (buyer, second, world.key())]
        assert len(plans) == 64
        results = run_parallel(64, lambda i: world.order(plans[i][0], plans[i][1], key=plans[i][2]))

        unexpected = [r for r in results if not isinstance(r, dict) and not (
            isinstance(r, TransactionsError) and r.code in ("already_owned", "insufficient_funds"))]
        assert not unexpected, unexpected[:3]
        for b, buyer in enumerate(buyers):
            mine = results[4 * b:4 * b + 4]
            if isinstance(mine[0], dict) and isinstance(mine[1], dict):
                assert mine[0]["order_id"] == mine[1]["order_id"]  # one key, one order
            orders = {r["order_id"] for r in mine if isinstance(r, dict)}
            covered = 2 if b % 2 == 0 else 1
            assert len(orders) == covered, (b, mine)
            assert world.balance(buyer) == 0
            assert len(world.service.list_orders(buyer, None, 50)["orders"]) == covered
            owned = [p["photo_id"] for p in world.service.purchases(buyer, None, 50)["purchases"]]
            assert len(owned) == len(set(owned)) == covered
        sold = sum(2 if b % 2 == 0 else 1 for b in range(16))
        assert sum(world.balance(p, "earnings") for p in photographers) == sold * net
        assert not any(violations(db).values())
    finally:
        db.close()


CHILD = textwrap.dedent("""
    import sys, time
    from photostack.db import Database
    from transactions import repository
    from transactions.catalog import CatalogPhoto

    from tests.catalog_fakes import InMemoryCatalog
    from transactions.domain import OrderRequest
    from transactions.presign import S3Presigner
    from transactions.services import TransactionsService

    dsn, buyer, owner, photo, key = sys.argv[1:6]
    # The order is one statement; a second one in the same transaction keeps it open, every
    # write done and nothing committed, until the parent kills this process (or, at the
    # latest, the statement timeout ends it).
    repository._PLACE_ORDER_SQL += "; SELECT pg_sleep(60)"
    catalog = InMemoryCatalog([CatalogPhoto(photo, "ev", owner, 300, "EUR", True, "originals/ev/" + photo)])
    service = TransactionsService(Database(dsn, schema="transactions", maxconn=2, statement_timeout_ms=8000),
                                  catalog,
                                  S3Presigner(None), fee_bps=1500, webhook_secret="x" * 40,
                                  uploads_bucket="b", presign_ttl_s=60)
    service.place_order(buyer, key, OrderRequest((photo,)))
""")


def _sleeping_in(db: Database, key: str) -> bool:
    """A server process is inside the order's transaction with ``key``, past its writes."""
    with db.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE %s",
                    (f"%{key}%",))
        return cur.fetchone() is not None


def test_killed_process_mid_order_leaves_nothing(world: Any, database_url: str, violations: Any) -> None:
    buyer, ph = world.user("c"), world.user("p")
    world.fund(buyer, 1000)
    pid, key = world.photo(ph, 300), world.key()
    before, ph_before = world.footprint(buyer), world.footprint(ph)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        str(ROOT / p) for p in ("layers/core/python", "functions/transactions", "."))}
    child = subprocess.Popen([sys.executable, "-c", CHILD, database_url, buyer, ph, pid, key],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        # In flight: its transaction has written everything and sleeps, uncommitted.
        deadline = time.monotonic() + 60
        while not _sleeping_in(world.service.db, key):
            assert child.poll() is None and time.monotonic() < deadline, (
                child.stderr.read() if child.stderr else "")
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=10)
    # Postgres rolls back the dead connection's transaction; the key is free again.
    assert world.footprint(buyer) == before and world.footprint(ph) == ph_before
    order = world.order(buyer, pid, key=key)
    assert order["total_minor"] == 300 and world.balance(buyer) == 700
    assert not any(violations(world.service.db).values())


def _order_waits_on_lock(db: Database, key: str) -> bool:
    with db.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                    (f"%{key}%",))
        return cur.fetchone() is not None


def test_an_order_locks_all_its_accounts_before_it_writes_a_posting(world: Any, database_url: str,
                                                                   violations: Any) -> None:
    """The one lock order (ascending account ids, all of the order's accounts, before any
    posting) is what keeps orders crossing the same hot accounts from deadlocking: the
    balance UPDATE after the postings then takes no new lock.

    Another transaction holds every row the order credits (each shard of the photographer's
    earnings and of the platform's revenue). The order must wait for them in its lock
    statement, before it has written a posting. Fails on a lock statement that locked only
    the wallet (a WHERE on the wallet's id around the locking subquery is pushed down into
    it): that order wrote its postings and waited in the balance UPDATE instead, where two
    orders lock rows in no common order (it deadlocked at 32 clients).
    """
    buyer, ph = world.user("c"), world.user("p")
    world.fund(buyer, 1000)
    photo = world.photo(ph, 300)
    refs = [AccountRef.earnings(ph, "EUR"), AccountRef.platform_revenue("EUR")]
    held = sorted(i for ids in world.service.accounts.rows(refs).values() for i in ids)
    holder = Database(database_url, schema="transactions", maxconn=1)
    watcher = Database(database_url, schema="transactions", maxconn=1)
    key = world.key()
    placed: list[Any] = []
    try:
        with holder.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM accounts WHERE id = ANY (%s) ORDER BY id FOR UPDATE", (held,))
            thread = threading.Thread(target=lambda: placed.append(world.order(buyer, photo, key=key)))
            thread.start()
            deadline = time.monotonic() + 30
            while not _order_waits_on_lock(watcher, key):
                assert time.monotonic() < deadline, "the order never waited for the held accounts"
                time.sleep(0.05)
            with watcher.cursor() as wcur:
                wcur.execute(
                    "SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE a.query LIKE %s AND l.relation = 'transactions.postings'::regclass",
                    (f"%{key}%",))
                assert wcur.fetchone()["n"] == 0, "the order wrote postings before it held its accounts"
            conn.rollback()
        thread.join(30)
        assert placed and placed[0]["status"] == "paid"
        assert not any(violations(world.service.db).values())
    finally:
        holder.close()
        watcher.close()
