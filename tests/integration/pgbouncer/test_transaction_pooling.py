"""The code's database paths through PgBouncer in transaction mode (infra/pgbouncer/).

Consecutive transactions of one client connection may run on different server connections,
so nothing may rely on session state: db.py sets the search path and the statement timeout
per transaction, and the migrations lock per transaction. These run against the PgBouncer
that `make up` starts (the tests' database_url points at it, as the functions' does).
"""

from __future__ import annotations

import concurrent.futures
import urllib.parse
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
from photostack.db import Database

pytestmark = pytest.mark.integration


def admin_url(database_url: str) -> str:
    """PgBouncer's console (the read-only SHOW commands the application role may run)."""
    return urllib.parse.urlsplit(database_url)._replace(path="/pgbouncer").geturl()


def show(database_url: str, what: str) -> list[dict[str, Any]]:
    conn = psycopg2.connect(admin_url(database_url))
    conn.autocommit = True  # the console has no transactions
    try:
        with conn.cursor() as cur:
            cur.execute(f"SHOW {what}")
            names = [c[0] for c in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        conn.close()


@pytest.fixture
def pools(database_url: str) -> Iterator[tuple[Database, Database]]:
    users = Database(database_url, schema="users", minconn=0, maxconn=2, statement_timeout_ms=1500)
    transactions = Database(database_url, schema="transactions", minconn=0, maxconn=2)
    yield users, transactions
    users.close()
    transactions.close()


def test_the_url_is_pgbouncer_in_transaction_mode(database_url: str) -> None:
    modes = {p["database"]: p["pool_mode"] for p in show(database_url, "POOLS")}
    database = urllib.parse.urlsplit(database_url).path.lstrip("/")
    assert modes[database] == "transaction"
    # The sidecars' pool of their own, in the same mode (infra/pgbouncer/pgbouncer.ini).
    assert {name: mode for name, mode in show_databases(database_url).items() if name.endswith("_sidecar")} \
        == {f"{database}_sidecar": "transaction"}


def show_databases(database_url: str) -> dict[str, str]:
    return {d["name"]: d["pool_mode"] or "transaction" for d in show(database_url, "DATABASES")
            if d["name"] != "pgbouncer"}


def test_startup_options_are_refused_so_nothing_may_rely_on_them(database_url: str) -> None:
    # What db.py used to send: PgBouncer 1.18 refuses it (and would pool the setting away).
    with pytest.raises(psycopg2.OperationalError, match="unsupported startup parameter"):
        psycopg2.connect(database_url, options="-c search_path=users,public")


def test_each_transaction_gets_its_pools_search_path_and_timeout_whatever_server_runs_it(
        pools: tuple[Database, Database], database_url: str) -> None:
    users, transactions = pools

    def settings(db: Database) -> tuple[str, str, int]:
        with db.cursor() as cur:
            cur.execute("SELECT current_setting('search_path') AS path,"
                        " current_setting('statement_timeout') AS timeout, pg_backend_pid() AS pid")
            row = cur.fetchone()
            return row["path"], row["timeout"], row["pid"]

    # Interleaved from several threads: server connections pass between the two pools' clients.
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        seen = list(pool.map(lambda i: (i % 2, settings(users if i % 2 == 0 else transactions)), range(80)))
    expected = {0: ("users, public", "1500ms"), 1: ("transactions, public", "10s")}
    for parity, (path, timeout, _) in seen:
        assert (path, timeout) == expected[parity]
    # A plain connection afterwards sees the server defaults, not what a pool's transaction set.
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT current_setting('search_path'), current_setting('statement_timeout')")
            assert cur.fetchone() == ('"$user", public', "0")
    finally:
        conn.close()


def test_unqualified_names_resolve_in_the_pools_schema(pools: tuple[Database, Database]) -> None:
    users, transactions = pools
    with users.cursor() as cur:
        cur.execute("SELECT count(*) AS n FROM account_states")  # users.account_states
        assert cur.fetchone()["n"] >= 0
    with transactions.cursor() as cur:
        cur.execute("SELECT to_regclass('account_states') IS NULL AS absent")
        assert cur.fetchone()["absent"]


def test_the_statement_timeout_applies_through_the_pooler(pools: tuple[Database, Database]) -> None:
    users, _ = pools
    with pytest.raises(psycopg2.errors.QueryCanceled), users.cursor() as cur:
        cur.execute("SELECT pg_sleep(5)")
    with users.cursor() as cur:  # the pool goes on with a healthy connection
        cur.execute("SELECT 1 AS one")
        assert cur.fetchone()["one"] == 1
