"""PgBouncer, configured as `make up` configures it, rides out a PostgreSQL restart.

A private PostgreSQL cluster (initdb in a temporary folder, its own port) and a private
PgBouncer rendered from infra/pgbouncer/pgbouncer.ini, so the shared stack is not disturbed.
A client of photostack.db keeps its connection to PgBouncer throughout: while PostgreSQL is
down its transactions fail (within PgBouncer's query_wait_timeout, not hanging), and once
PostgreSQL is back they succeed again with nothing restarted or reconnected by hand.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from photostack.db import Database

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
PG_BIN = Path(sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]) if Path("/usr/lib/postgresql").exists() \
    else Path("/usr/bin")
PASSWORD = "private-cluster-only"  # a throwaway cluster's role, gone with the test


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on 127.0.0.1:{port}"
            time.sleep(0.05)


def as_owner(*cmd: str | Path) -> list[str]:
    """PostgreSQL and PgBouncer refuse to run as root: as root, run them as postgres."""
    args = [str(c) for c in cmd]
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def run(*cmd: str | Path) -> None:
    subprocess.run(as_owner(*cmd), check=True, capture_output=True, timeout=60)


class Cluster:
    def __init__(self, folder: Path) -> None:
        self.folder, self.data, self.port = folder, folder / "data", free_port()

    def create(self) -> None:
        (self.folder / "pw").write_text(PASSWORD + "\n")
        run(PG_BIN / "initdb", "-D", self.data, "-A", "scram-sha-256", "-U", "app", "--pwfile",
            self.folder / "pw", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.data}'\nfsync = off\n")

    def start(self) -> None:
        run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.folder / "pg.log", "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        run(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def verifier(self) -> str:
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="app", password=PASSWORD,
                                dbname="postgres")
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'app'")
                return str(cur.fetchone()[0])
        finally:
            conn.close()


@pytest.fixture
def stack() -> Iterator[tuple[Cluster, str]]:
    # Not pytest's tmp_path: its parents are private to root, and the servers run as postgres.
    with tempfile.TemporaryDirectory(prefix="photostack-pgbouncer-") as name:
        folder = Path(name)
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
        yield from _stack(folder)


def _stack(folder: Path) -> Iterator[tuple[Cluster, str]]:
    cluster = Cluster(folder)
    cluster.create()
    cluster.start()
    bouncer_port = free_port()
    # The same file `make up` renders (infra/services.sh pgbouncer_render), small pools.
    values = {"@DB@": "postgres", "@PG_PORT@": str(cluster.port), "@PORT@": str(bouncer_port),
              "@DIR@": str(folder), "@LOG@": str(folder / "pgbouncer.log"), "@USER@": "app",
              "@FUNCTIONS_POOL@": "2", "@SIDECAR_POOL@": "2"}
    ini = (ROOT / "infra" / "pgbouncer" / "pgbouncer.ini").read_text()
    for placeholder, value in values.items():
        ini = ini.replace(placeholder, value)
    (folder / "pgbouncer.ini").write_text(ini)
    (folder / "userlist.txt").write_text(f'"app" "{cluster.verifier()}"\n')
    if os.geteuid() == 0:
        for name in ("pgbouncer.ini", "userlist.txt", "pw"):
            shutil.chown(folder / name, "postgres")
    run("pgbouncer", "-d", "-q", folder / "pgbouncer.ini")
    listening(bouncer_port)  # it forks into the background before it listens
    try:
        yield cluster, f"postgresql://app:{PASSWORD}@127.0.0.1:{bouncer_port}/postgres"
    finally:
        pid = (folder / "pgbouncer.pid").read_text().strip() if (folder / "pgbouncer.pid").exists() else ""
        if pid:
            subprocess.run(["kill", pid], check=False)
        subprocess.run(as_owner(PG_BIN / "pg_ctl", "-D", cluster.data, "-m", "immediate", "stop"),
                       check=False, capture_output=True)


def backend(db: Database) -> int:
    with db.cursor() as cur:
        cur.execute("SELECT pg_backend_pid() AS pid")
        return int(cur.fetchone()["pid"])


@pytest.mark.parametrize("mode", ["fast", "immediate"])  # a clean restart, and a crash (kill -9 like)
def test_clients_get_errors_while_postgresql_is_down_and_recover_when_it_returns(
        stack: tuple[Cluster, str], mode: str) -> None:
    cluster, url = stack
    db = Database(url, schema="public", minconn=1, maxconn=1, connect_timeout_s=2)
    try:
        before = backend(db)
        cluster.stop(mode)
        started = time.monotonic()
        with pytest.raises(psycopg2.OperationalError):
            backend(db)
        # PgBouncer answers within its query_wait_timeout (5 s): the client does not hang.
        assert time.monotonic() - started < 25
        cluster.start()
        deadline = time.monotonic() + 30
        while True:  # the first transactions after the return may still meet the old connection
            try:
                after = backend(db)
                break
            except psycopg2.OperationalError:
                assert time.monotonic() < deadline, "PgBouncer did not reach PostgreSQL again"
                time.sleep(0.2)
        assert after != before  # a new server connection behind the same pool
        for _ in range(5):
            backend(db)
    finally:
        db.close()
