"""The stack's CPU by part (/proc): the row that says what bounds POST /orders through the gateway."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.bench.procstat import cpu_per_unit, stack_cpu_s

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")

BURN_THEN_WAIT = ("import time\nuntil = time.process_time() + 0.3\nwhile time.process_time() < until: pass\n"
                  "print('burnt', flush=True)\ntime.sleep(30)")


def test_each_part_is_read_from_its_pid_file_and_its_children(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", BURN_THEN_WAIT], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "burnt"
        # This process plays LocalStack (the child is its function environment) and a sidecar.
        (tmp_path / "localstack.pid").write_text(f"{os.getpid()}\n")
        (tmp_path / "sidecar2.pid").write_text(f"{os.getpid()}\n")
        read = stack_cpu_s(tmp_path)
        assert read["function environments"] >= 0.25
        assert read["LocalStack"] == read["photo sidecars"] == pytest.approx(read["bench client"], abs=0.02)
    finally:
        child.kill()
        child.wait()


def test_parts_whose_pid_file_is_missing_or_stale_read_zero(tmp_path: Path) -> None:
    (tmp_path / "sidecar.pid").write_text("not a pid\n")
    read = stack_cpu_s(tmp_path)
    assert read["LocalStack"] == read["function environments"] == read["photo sidecars"] == 0.0
    until = time.process_time() + 0.2
    while time.process_time() < until:
        pass
    assert stack_cpu_s(tmp_path)["bench client"] - read["bench client"] >= 0.15


def test_cpu_per_unit_names_every_part_largest_first() -> None:
    before = {"LocalStack": 10.0, "PostgreSQL": 5.0, "bench client": 1.0}
    after = {"LocalStack": 13.1, "PostgreSQL": 7.1, "bench client": 2.1}
    total, text = cpu_per_unit(before, after, 1000)
    assert total == pytest.approx(6.3)
    assert text == "LocalStack 3.1, PostgreSQL 2.1, bench client 1.1"
