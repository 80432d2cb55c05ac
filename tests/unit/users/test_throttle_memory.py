"""The in-process counters the throttle falls back to while Redis is away (no I/O)."""

from __future__ import annotations

import threading

import pytest
from users.throttle import Limit, MemoryCounters

from tests.fake_clock import Clock

pytestmark = pytest.mark.unit


def test_admits_up_to_the_limit_then_answers_the_wait() -> None:
    clock = Clock()
    counters = MemoryCounters(clock=clock)
    limits = [Limit("acct", 3), Limit("ip", 10)]
    assert [counters.take(limits, 60) for _ in range(3)] == [0, 0, 0]
    clock.now += 20
    assert counters.take(limits, 60) == 40
    clock.now += 41
    assert counters.take(limits, 60) == 0  # a new window


def test_a_refused_attempt_counts_nothing_anywhere() -> None:
    counters = MemoryCounters(clock=Clock())
    for _ in range(2):
        counters.take([Limit("acct", 2), Limit("ip", 5)], 60)
    for _ in range(10):
        assert counters.take([Limit("acct", 2), Limit("ip", 5)], 60) > 0
    # The address spent 2 of its 5, not 12.
    assert [counters.take([Limit(f"other-{i}", 9), Limit("ip", 5)], 60) for i in range(4)] == [0, 0, 0, 60]


def test_give_back_and_clear() -> None:
    counters = MemoryCounters(clock=Clock())
    assert counters.take([Limit("k", 1)], 60) == 0
    assert counters.take([Limit("k", 1)], 60) == 60
    counters.give_back("k")
    assert counters.take([Limit("k", 1)], 60) == 0
    counters.clear("k")
    counters.give_back("k")  # never below zero
    assert counters.take([Limit("k", 1)], 60) == 0
    assert counters.take([Limit("k", 1)], 60) == 60


def test_parallel_attempts_get_exactly_the_limit_through() -> None:
    counters = MemoryCounters()
    results: list[int] = []
    barrier = threading.Barrier(50)

    def attempt() -> None:
        barrier.wait()
        results.append(counters.take([Limit("acct", 10)], 60))

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(0) == 10 and len(results) == 50


def test_the_table_is_bounded_dropping_the_oldest_windows() -> None:
    clock = Clock()
    counters = MemoryCounters(max_keys=3, clock=clock)
    for key in ("a", "b", "c", "d"):
        clock.now += 1
        counters.take([Limit(key, 1)], 60)
    assert counters.take([Limit("a", 1)], 60) == 0  # "a" was dropped
    assert counters.take([Limit("d", 1)], 60) > 0
