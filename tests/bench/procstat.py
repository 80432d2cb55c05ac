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
