"""The deployed functions and the running sidecars reach PostgreSQL only through PgBouncer.

Looked at from outside, in the operating system: every TCP connection a function environment
(a process of the LocalStack process executor) or a sidecar process holds to the database
goes to PgBouncer's port, none to PostgreSQL's; and PgBouncer counts the sidecars' clients
in their own pool.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from tests.e2e.journey_support import Apis, person
from tests.integration.pgbouncer.test_transaction_pooling import show

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_PORT = 5432
PGBOUNCER_PORT = int(os.environ.get("PHOTOSTACK_PGBOUNCER_PORT", "6432"))
RUNTIME = b"photostack_localstack_executor/runtime.py"


def remote_ports() -> dict[int, int]:
    """Socket inode -> remote port of every established loopback TCP connection."""
    found: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote, state, inode = fields[2], fields[3], int(fields[9])
            if state == "01":  # ESTABLISHED
                found[inode] = int(remote.rsplit(":", 1)[1], 16)
    return found


def ports_of(pid: int, remotes: dict[int, int]) -> list[int]:
    ports = []
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except (FileNotFoundError, ProcessLookupError):
        return []  # the process ended meanwhile
    for link in links:
        if link.startswith("socket:["):
            port = remotes.get(int(link[8:-1]))
            if port is not None:
                ports.append(port)
    return ports


def function_processes() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if RUNTIME in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def sidecar_processes() -> list[int]:
    return [int(p.read_text()) for p in (ROOT / ".state" / "run").glob("sidecar*.pid")]


def test_functions_and_sidecars_connect_to_pgbouncer_never_to_postgresql(
        stack: dict[str, str], database_url: str) -> None:
    apis = Apis.of(stack)
    # Signed-in requests that read PostgreSQL: the users function (its account) and the
    # transactions function (the wallet); the photos function reads through a sidecar.
    who = person(apis, "photographer")
    for url in (f"{apis.users}/users/me", f"{apis.transactions}/wallet", f"{apis.photos}/events"):
        assert requests.get(url, headers=who.headers, timeout=60).status_code == 200, url

    remotes = remote_ports()
    functions = {pid: ports_of(pid, remotes) for pid in function_processes()}
    sidecars = {pid: ports_of(pid, remotes) for pid in sidecar_processes()}
    assert sidecars and functions
    assert all(POSTGRES_PORT not in ports for ports in [*functions.values(), *sidecars.values()]), \
        (functions, sidecars)
    assert any(PGBOUNCER_PORT in ports for ports in functions.values()), functions
    assert all(PGBOUNCER_PORT in ports for ports in sidecars.values()), sidecars

    # PgBouncer's side: the sidecars are clients of their own pool, in transaction mode.
    pools = {p["database"]: p for p in show(database_url, "POOLS")}
    sidecar_pool = next(p for name, p in pools.items() if name.endswith("_sidecar"))
    assert sidecar_pool["pool_mode"] == "transaction"
    assert sidecar_pool["cl_active"] + sidecar_pool["cl_waiting"] >= len(sidecars)
