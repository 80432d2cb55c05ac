"""LocalStack's Lambda timers on one scheduler thread (keepalive_timers.py): threading.Timer's start and
cancel as LocalStack uses them, deadlines kept, cancelled timers never fire and do not pile up."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "infra" / "localstack" / "executor"))

from photostack_localstack_executor.keepalive_timers import (
    REBUILD_AT,
    ScheduledTimer,
    TimerScheduler,
    install,
)

pytestmark = pytest.mark.unit


def test_a_started_timer_runs_its_function_with_its_arguments_on_another_thread() -> None:
    scheduler = TimerScheduler()
    ran = threading.Event()
    seen: list[object] = []

    def function(*args: object, **kwargs: object) -> None:
        seen.extend([args, kwargs, threading.current_thread() is not main])
        ran.set()

    main = threading.current_thread()
    started = time.monotonic()
    ScheduledTimer(0.05, function, args=(1, 2), kwargs={"k": 3}, scheduler=scheduler).start()
    assert ran.wait(5)
    assert time.monotonic() - started >= 0.05
    assert seen == [(1, 2), {"k": 3}, True]
    assert scheduler.fired == 1


def test_the_earliest_deadline_fires_first_even_when_started_last() -> None:
    scheduler = TimerScheduler()
    order: list[str] = []
    done = threading.Event()

    def late() -> None:
        order.append("late")
        done.set()

    ScheduledTimer(0.6, late, scheduler=scheduler).start()
    ScheduledTimer(0.05, lambda: order.append("early"), scheduler=scheduler).start()
    assert done.wait(5)
    assert order == ["early", "late"]


def test_a_cancelled_timer_never_runs_and_cancel_is_harmless_before_start_and_after_firing() -> None:
    scheduler = TimerScheduler()
    ran = threading.Event()
    timer = ScheduledTimer(0.1, ran.set, scheduler=scheduler)
    timer.start()
    timer.cancel()
    assert not ran.wait(0.5)
    assert scheduler.fired == 0

    ScheduledTimer(0, ran.set, scheduler=scheduler).cancel()  # LocalStack's placeholder, never started
    fired = threading.Event()
    once = ScheduledTimer(0.01, fired.set, scheduler=scheduler)
    once.start()
    assert fired.wait(5)
    once.cancel()
    with pytest.raises(RuntimeError):
        once.start()


def test_a_timer_cancelled_before_it_starts_starts_harmlessly_and_never_runs() -> None:
    """As threading.Timer: LocalStack's release() creates a timer, then starts it; a reserve() in
    between cancels it. Its start raised here and failed a finished invocation (a 502)."""
    scheduler = TimerScheduler()
    ran = threading.Event()
    timer = ScheduledTimer(0.01, ran.set, scheduler=scheduler)
    timer.cancel()
    timer.start()
    assert not ran.wait(0.3)
    assert scheduler.fired == 0 and scheduler.pending() == 0
    with pytest.raises(RuntimeError):
        timer.start()  # started twice is still an error, as a thread's second start()


def test_cancelled_timers_do_not_pile_up_under_load() -> None:
    scheduler = TimerScheduler()
    for _ in range(20 * REBUILD_AT):  # each invocation: release() starts one, reserve() cancels it
        timer = ScheduledTimer(600, lambda: None, scheduler=scheduler)
        timer.start()
        timer.cancel()
    assert scheduler.pending() <= REBUILD_AT
    live = ScheduledTimer(600, lambda: None, scheduler=scheduler)
    live.start()
    for _ in range(3 * REBUILD_AT):
        timer = ScheduledTimer(600, lambda: None, scheduler=scheduler)
        timer.start()
        timer.cancel()
    assert scheduler.pending() <= REBUILD_AT + 1
    assert not live.is_cancelled


def test_the_default_setting_leaves_localstack_timers_alone() -> None:
    assert install({"PHOTOSTACK_LOCALSTACK_TIMERS": "default"}) is False
