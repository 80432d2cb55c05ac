"""The faults the chaos suite injects, and how each service comes back.

A fault is a ``kill -9`` of real processes of the running stack (found by the port they listen
on, and checked to be what we think they are), so nothing gets the chance to deregister, flush
or close cleanly. Each service is brought back the way ``make up`` does: ``infra/services.sh up``
(and, after LocalStack, ``infra/up.sh``, which also redeploys the stack it kept in memory).

``restore_everything`` is what the suite runs in a ``finally``: every service up, both sidecars
listed in Consul, and the APIs answering through warm function environments, so that the tests
that run after the chaos module find the stack as ``make up`` left it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.conftest import forget_stack_secrets

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "infra" / "services.sh"
STACK_OUTPUTS = ROOT / ".state" / "stack-outputs.json"
SIDECAR_PORT = int(os.environ.get("PHOTOSTACK_SIDECAR_PORT", "15051"))
SIDECAR_INSTANCES = int(os.environ.get("PHOTOSTACK_SIDECAR_INSTANCES", "2"))
REDIS_PORT = int(os.environ.get("PHOTOSTACK_REDIS_PORT", "6379"))
CONSUL_PORT = int(os.environ.get("PHOTOSTACK_CONSUL_PORT", "8500"))
LOCALSTACK_PORT = int(os.environ.get("PHOTOSTACK_LOCALSTACK_PORT", "4566"))

# Bringing a service back can take a while on a loaded machine (LocalStack plus a redeploy most).
SERVICE_UP_TIMEOUT_S = 240
STACK_UP_TIMEOUT_S = 900
READY_TIMEOUT_S = 180


def sidecar_ports() -> list[int]:
    return [SIDECAR_PORT + 2 * n for n in range(SIDECAR_INSTANCES)]


# ---- finding and killing processes ---------------------------------------------------------

def listener_pids(port: int) -> set[int]:
    """Processes listening on ``port`` on this machine (ss -ltnp)."""
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True,
                         check=False).stdout
    return {int(part.split(",")[0]) for part in out.split("pid=")[1:]}


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def postmaster_pid() -> int | None:
    """The PostgreSQL server's main process (not PgBouncer, which may sit in front of it)."""
    out = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                         check=False).stdout.split()
    if len(out) < 6:
        return None
    pidfile = Path(out[5]) / "postmaster.pid"
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def kill9(pids: set[int], expect: str) -> set[int]:
    """SIGKILL each pid whose command line contains ``expect``; the ones killed."""
    killed = set()
    for pid in pids:
        line = cmdline(pid)
        assert expect in line, f"pid {pid} is not {expect}: {line!r}"
        try:
            os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        except ProcessLookupError:
            pass
    return killed


def wait_gone(pids: set[int], timeout_s: float = 30) -> None:
    """Until every pid has exited (a killed process's listener can linger for a moment)."""
    deadline = time.monotonic() + timeout_s
    while any(Path(f"/proc/{pid}").exists() and "(Z)" not in _stat(pid) for pid in pids):
        assert time.monotonic() < deadline, f"processes {sorted(pids)} did not exit after SIGKILL"
        time.sleep(0.1)


def _stat(pid: int) -> str:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]
    except (OSError, IndexError):
        return "(Z)"
    return "(Z)" if state in {"Z", "X"} else state


def kill_port(port: int, expect: str) -> None:
    pids = listener_pids(port)
    assert pids, f"nothing listens on port {port}: is the stack up?"
    wait_gone(kill9(pids, expect))


# ---- bringing services back ----------------------------------------------------------------

def services(*args: str, timeout_s: float = SERVICE_UP_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SERVICES), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout_s, check=False)


def up(*names: str, timeout_s: float = SERVICE_UP_TIMEOUT_S) -> None:
    """``services.sh up <names>`` until it succeeds: right after a SIGKILL a start can fail once
    (PostgreSQL's old shared memory still attached, a port in TIME_WAIT)."""
    deadline = time.monotonic() + timeout_s
    while True:
        done = services("up", *names, timeout_s=timeout_s)
        if done.returncode == 0:
            return
        assert time.monotonic() < deadline, f"services.sh up {' '.join(names)} failed:\n{done.stderr[-2000:]}"
        time.sleep(1)


def make_up(timeout_s: float = STACK_UP_TIMEOUT_S, attempts: int = 3) -> None:
    """What ``make up`` runs after setup: every service, migrations, the deploy. Tried again
    after a failure: the stack must not be left undeployed for the tests that follow."""
    for attempt in range(1, attempts + 1):
        done = subprocess.run(["bash", str(ROOT / "infra" / "up.sh")], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout_s, check=False)
        if done.returncode == 0:
            forget_stack_secrets()
            return
        assert attempt < attempts, f"infra/up.sh failed:\n{done.stdout[-1500:]}\n{done.stderr[-3000:]}"
        time.sleep(5)


def status() -> dict[str, str]:
    """``services.sh status`` as {service: up|down}."""
    out = services("status", timeout_s=60).stdout
    return dict(line.split(None, 1) for line in out.splitlines() if line.strip())


def stack_outputs() -> dict[str, str]:
    outputs: dict[str, str] = json.loads(STACK_OUTPUTS.read_text())
    return outputs


def sidecars_listed() -> bool:
    from tests.identity import STACK_SIDECAR, resolver

    wanted = {f"127.0.0.1:{port}" for port in sidecar_ports()}
    try:
        return wanted <= set(resolver(STACK_SIDECAR).instances())
    except Exception:
        return False


def apis_answer(outputs: dict[str, str], in_a_row: int = 5) -> bool:
    """Each API's /health answers 200 ``in_a_row`` times running: the photos and transactions
    health checks reach the database (photos through the sidecar), and several calls in a row
    land on more than one warm environment when LocalStack has scaled a function out."""
    for key in ("UsersApiUrl", "PhotosApiUrl", "TransactionsApiUrl"):
        for _ in range(in_a_row):
            try:
                r = requests.get(outputs[key].rstrip("/") + "/health", timeout=30)
            except requests.RequestException:
                return False
            if r.status_code != 200:
                return False
    return True


def wait_until(what: str, check: Callable[[], bool], timeout_s: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting for {what}"
        time.sleep(0.5)


def wait_stack_ready(timeout_s: float = READY_TIMEOUT_S) -> None:
    """Every service up, both sidecars listed in Consul, every API answering."""
    wait_until("services.sh status: all up", lambda: set(status().values()) == {"up"}, timeout_s)
    wait_until("Consul to list every sidecar instance", sidecars_listed, timeout_s)
    wait_until("the APIs to answer", lambda: apis_answer(stack_outputs()), timeout_s)


def localstack_deployed() -> bool:
    """LocalStack answers and still has the stack's APIs (it keeps them in memory)."""
    try:
        outputs = stack_outputs()
        r = requests.get(outputs["PhotosApiUrl"].rstrip("/") + "/health", timeout=30)
    except (OSError, KeyError, requests.RequestException):
        return False
    return r.status_code != 404


def restore_everything() -> None:
    """Bring every service back as ``make up`` would and wait until the stack serves again.
    Safe to run when nothing is broken (a few seconds)."""
    up()
    if not localstack_deployed():
        make_up()
    wait_stack_ready()


# ---- the faults ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Fault:
    """A kill -9 and how the service comes back. ``zero_failures``: callers must not notice."""

    name: str
    inject: Callable[[], None]
    restore: Callable[[], None]
    zero_failures: bool = False
    redeploys: bool = False
    notes: list[str] = field(default_factory=list)


def _kill_sidecar(n: int) -> None:
    kill_port(sidecar_ports()[n], "sidecar")


def _kill_every_sidecar() -> None:
    for n in range(SIDECAR_INSTANCES):
        _kill_sidecar(n)


def _sidecars_back() -> None:
    up("sidecar")
    wait_until("Consul to list every sidecar instance", sidecars_listed)


def _kill_postgres() -> None:
    pid = postmaster_pid()
    assert pid is not None, "no PostgreSQL postmaster.pid: is PostgreSQL up?"
    wait_gone(kill9({pid}, "postgres"))


def _kill_localstack() -> None:
    kill_port(LOCALSTACK_PORT, "localstack")


def _localstack_back() -> None:
    make_up()
    wait_until("Consul to list every sidecar instance", sidecars_listed)


def _consul_back() -> None:
    up("consul")
    wait_until("Consul to list every sidecar instance", sidecars_listed)


SIDECAR_ONE = Fault("sidecar (one of two)", lambda: _kill_sidecar(0), _sidecars_back, zero_failures=True)
SIDECAR_BOTH = Fault("sidecar (both)", _kill_every_sidecar, _sidecars_back)
REDIS = Fault("redis", lambda: kill_port(REDIS_PORT, "redis-server"), lambda: up("redis"))
POSTGRES = Fault("postgresql", _kill_postgres, lambda: up("postgres"))
CONSUL = Fault("consul", lambda: kill_port(CONSUL_PORT, "consul"), _consul_back)
LOCALSTACK = Fault("localstack", _kill_localstack, _localstack_back, redeploys=True)

BOUNDED = [SIDECAR_ONE, REDIS, POSTGRES]
FULL = [SIDECAR_ONE, SIDECAR_BOTH, REDIS, POSTGRES, CONSUL, LOCALSTACK]
