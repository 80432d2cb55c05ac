"""The ledger rows' CPU figures (issue #17): read from /proc, they say where an order's CPU went."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.bench import bench_transactions as bt

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")


def _burn(seconds: float) -> None:
    until = time.process_time() + seconds
    while time.process_time() < until:
        pass


def test_cpu_seconds_of_a_process_name_grow_with_its_work() -> None:
    comm = Path("/proc/self/comm").read_text().strip()
    before = bt._cpu_seconds(comm)
    _burn(0.3)
    after = bt._cpu_seconds(comm)
    assert before is not None and after is not None
    # This process alone burnt 0.3 s; others of the same name may add, never subtract.
    assert after - before >= 0.25


def test_no_process_of_a_name_reads_as_unknown_not_zero() -> None:
    assert bt._cpu_seconds("no-such-process-name") is None


def test_the_machine_busy_time_is_part_of_its_total_and_grows() -> None:
    first = bt._busy_and_total()
    _burn(0.2)
    second = bt._busy_and_total()
    assert first is not None and second is not None
    assert 0 <= first[0] <= first[1]
    assert second[0] - first[0] >= 0.15
    assert second[1] - first[1] >= second[0] - first[0] - 0.011  # ticks of 10 ms, as floats


def test_the_row_text_names_each_figure() -> None:
    text = bt.LevelCpu(postgres_ms=1.234, clients_ms=0.4, busy_percent=99.6, ours_percent=70.2).text()
    assert text == ("PostgreSQL 1.23, client processes 0.40 ms CPU per order, all cores 100 % busy "
                    "(70 % these two)")
    assert bt.LevelCpu(postgres_ms=None, clients_ms=0.4, busy_percent=None, ours_percent=None).text() == \
        "client processes 0.40 ms CPU per order"
