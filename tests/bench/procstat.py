"""CPU time of this machine's processes, read from Linux's /proc: the benches' CPU rows."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Process:
    name: str  # /proc/<pid>/comm: the executable's name, at most 15 characters
    parent: int
    cpu_s: float  # user + system seconds used so far


def processes() -> dict[int, Process]:
    """Every running process by pid; empty where there is no /proc (not Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, Process] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        # The name is in parentheses and may itself hold ") ": the fields follow the last one.
        head, _, rest = text.rpartition(")")
        fields = rest.split()  # state, parent, ... utime and stime at 11 and 12
        found[int(stat.parent.name)] = Process(head[head.index("(") + 1:], int(fields[1]),
                                               (int(fields[11]) + int(fields[12])) / tick)
    return found


def _pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def stack_cpu_s(run_dir: Path) -> dict[str, float]:
    """CPU seconds used so far by each part of the stack that `make up` started, under the names
    the benches print: LocalStack (its pid file in ``run_dir``), its function environments (its
    children and theirs), the photo sidecars (their pid files), PostgreSQL and PgBouncer (every
    process of those names: the machine's one server of each), and this process (a bench's
    client threads). Another LocalStack or sidecar on the machine is not counted."""
    running = processes()
    localstack = _pid(run_dir / "localstack.pid")
    sidecars = {pid for f in sorted(run_dir.glob("sidecar*.pid")) if (pid := _pid(f)) in running}
    environments = {pid for pid, p in running.items() if localstack is not None and p.parent == localstack}
    environments |= {pid for pid, p in running.items() if p.parent in environments}

    def total(pids: set[int]) -> float:
        return sum(running[pid].cpu_s for pid in pids if pid in running)

    return {"LocalStack": total({localstack} if localstack is not None else set()),
            "function environments": total(environments),
            "photo sidecars": total(sidecars),
            "PostgreSQL": total({pid for pid, p in running.items() if p.name == "postgres"}),
            "PgBouncer": total({pid for pid, p in running.items() if p.name == "pgbouncer"}),
            "bench client": total({os.getpid()})}


def cpu_per_unit(before: dict[str, float], after: dict[str, float], units: int) -> tuple[float, str]:
    """What each part used per unit of work between two readings of :func:`stack_cpu_s`: the
    total in ms and a text that names every part, the largest first."""
    used = {name: (after[name] - before.get(name, 0.0)) * 1000 / max(1, units) for name in after}
    parts = ", ".join(f"{name} {ms:.1f}" for name, ms in sorted(used.items(), key=lambda kv: -kv[1]))
    return sum(used.values()), parts
