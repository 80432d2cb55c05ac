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


def test_every_round_runs_every_level_once_and_each_round_starts_one_level_later() -> None:
    schedule = bt.round_schedule((1, 8, 32, 64), 3)
    assert schedule == [1, 8, 32, 64, 8, 32, 64, 1, 32, 64, 1, 8]
    rounds = [schedule[i:i + 4] for i in range(0, len(schedule), 4)]
    assert all(sorted(r) == [1, 8, 32, 64] for r in rounds)
    # No level holds the same place in two rounds: a slow stretch at a round's start hits each once.
    assert len({r[0] for r in rounds}) == 3 and len({r[-1] for r in rounds}) == 3


def test_a_level_pools_its_rounds_cpu_per_order_weighted_by_orders() -> None:
    pooled = bt.LevelCpu.pooled([
        (1000, bt.LevelCpu(postgres_ms=1.0, clients_ms=0.4, busy_percent=90.0, ours_percent=80.0)),
        (3000, bt.LevelCpu(postgres_ms=2.0, clients_ms=0.8, busy_percent=100.0, ours_percent=90.0)),
    ])
    assert pooled.postgres_ms == pytest.approx(1.75) and pooled.clients_ms == pytest.approx(0.7)
    assert pooled.busy_percent == pytest.approx(95.0) and pooled.ours_percent == pytest.approx(85.0)
    unknown = bt.LevelCpu.pooled([(10, bt.LevelCpu(None, 0.5, None, None)),
                                  (10, bt.LevelCpu(1.0, 0.5, 50.0, 40.0))])
    assert unknown.postgres_ms is None and unknown.busy_percent is None and unknown.clients_ms == 0.5


def test_a_level_reads_as_its_median_round_with_every_round_beside_it() -> None:
    cpu = bt.LevelCpu(postgres_ms=0.8, clients_ms=0.4, busy_percent=95.0, ours_percent=88.0)
    eight = bt.LevelFigures([1356.0, 1174.0, 1203.0], [0.010] * 99 + [0.050], [(100, cpu)] * 3)
    thirty_two = bt.LevelFigures([1262.0, 1502.0, 1075.0], [0.030] * 10, [(100, cpu)] * 3)
    assert eight.rate == 1203.0 and thirty_two.rate == 1262.0
    text = eight.text()
    assert text.startswith("1203/s median of 3 rounds (1356 / 1174 / 1203); p50 10.0 ms")
    assert "n=100" in text and "PostgreSQL 0.80" in text
    assert bt.change_text(eight, thirty_two) == ("+5 % (1203 -> 1262/s; rounds 1356 / 1174 / 1203"
                                                 " and 1262 / 1502 / 1075)")
    assert bt.change_text(thirty_two, eight).startswith("-5 % (1262 -> 1203/s")


def test_a_level_starts_only_after_every_client_could_warm_up() -> None:
    # The pool's start-up (as before), then every client's untimed orders at 400 orders/s.
    for clients in (1, 8, 32, 64):
        assert bt.warmup_lead_s(clients) >= 1.0 + 0.05 * clients + clients * bt.WARMUP_ORDERS / 400
    assert bt.warmup_lead_s(64) > bt.warmup_lead_s(32) > bt.warmup_lead_s(8)
