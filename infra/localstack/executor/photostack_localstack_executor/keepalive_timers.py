"""LocalStack's Lambda timers, served by one thread instead of one new thread per invocation.

LocalStack's ``ExecutionEnvironment.release()`` starts a ``threading.Timer`` (``LAMBDA_KEEPALIVE_MS``,
ten minutes) that stops an environment left idle, and ``reserve()`` cancels it at the next
invocation: one thread started, and woken to end, per request. ``Thread.start()`` also waits for
the new thread to signal that it runs, so each start is GIL hand-offs in the one process that
bounds the emulated API path (its gateway, Lambda service and executor share that GIL): 242 µs per
``Timer`` start and cancel in LocalStack's own virtualenv, 6.8 µs for :class:`ScheduledTimer`'s.
Under ``ab -c 32`` on GET /probe/ok, LocalStack restarted for each setting, alternating, nine
runs of 10 s: 232-264 requests/s (mean 251), p99 195-228 ms, LocalStack's CPU 3.9 ms per request;
with LocalStack's timers 176-220 (mean 200), p99 235-287 ms, 4.8 ms per request.

:class:`ScheduledTimer` has ``threading.Timer``'s interface as LocalStack uses it (``start``,
``cancel``) and the same deadlines; every started timer waits in one heap served by one daemon
thread, and when one falls due its function runs on a thread of its own, as ``Timer``'s did (it
stops a runtime and may block). A cancelled timer leaves the heap when the heap is rebuilt (once
cancelled ones are most of it) or when its deadline passes, so the heap stays bounded under load.
``PHOTOSTACK_LOCALSTACK_TIMERS=default`` keeps LocalStack's own timers.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

TIMERS_ENV = "PHOTOSTACK_LOCALSTACK_TIMERS"
# Rebuild the heap when at least this many of its entries, and most of them, are cancelled.
REBUILD_AT = 1024


class TimerScheduler:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, ScheduledTimer]] = []
        self._seq = itertools.count()
        self._cancelled = 0
        self._thread: threading.Thread | None = None
        self.fired = 0

    def schedule(self, timer: ScheduledTimer) -> None:
        with self._cond:
            heapq.heappush(self._heap, (timer.deadline, next(self._seq), timer))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lambda-timers", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is timer:
                self._cond.notify()  # the new earliest deadline

    def cancelled(self) -> None:
        with self._cond:
            self._cancelled += 1
            if self._cancelled >= REBUILD_AT and 2 * self._cancelled > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].is_cancelled]
                heapq.heapify(self._heap)
                self._cancelled = 0

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def _run(self) -> None:
        while True:
            due: list[ScheduledTimer] = []
            with self._cond:
                while not due:
                    if not self._heap:
                        self._cond.wait()
                        continue
                    deadline, _, timer = self._heap[0]
                    if timer.is_cancelled:
                        heapq.heappop(self._heap)
                        self._cancelled = max(0, self._cancelled - 1)
                        continue
                    wait_s = deadline - self._clock()
                    if wait_s > 0:
                        self._cond.wait(wait_s)
                        continue
                    heapq.heappop(self._heap)
                    due.append(timer)
            for timer in due:
                if timer.claim():
                    self.fired += 1
                    threading.Thread(target=timer.run, name="lambda-timer", daemon=True).start()


SCHEDULER = TimerScheduler()


class ScheduledTimer:
    """``threading.Timer(interval, function, args, kwargs)`` as LocalStack uses it."""

    def __init__(self, interval: float, function: Callable[..., Any], args: Any = None,
                 kwargs: Mapping[str, Any] | None = None, *, scheduler: TimerScheduler | None = None) -> None:
        self.interval = interval
        self.function = function
        self.args = list(args) if args is not None else []
        self.kwargs = dict(kwargs) if kwargs is not None else {}
        self.deadline = 0.0
        self._scheduler = scheduler or SCHEDULER
        self._lock = threading.Lock()
        self._state = "new"  # new -> started -> (cancelled | fired), or new -> cancelled
        self._started = False

    @property
    def is_cancelled(self) -> bool:
        return self._state == "cancelled"

    def start(self) -> None:
        with self._lock:
            if self._started:
                raise RuntimeError("timers can only be started once")
            self._started = True
            if self._state == "cancelled":
                # Cancelled before it started: as threading.Timer's thread, it ends at once and never
                # runs. Raising here failed an invocation whose environment another one had reserved
                # (cancelling this timer) between LocalStack's release() creating and starting it.
                return
            self._state = "started"
            self.deadline = self._scheduler._clock() + self.interval
        self._scheduler.schedule(self)

    def cancel(self) -> None:
        """Stop the timer if it has not fired yet (as ``Timer.cancel``: harmless when it has)."""
        with self._lock:
            started = self._state == "started"
            if self._state in ("new", "started"):
                self._state = "cancelled"
        if started:
            self._scheduler.cancelled()

    def claim(self) -> bool:
        """The scheduler's: fire unless cancelled meanwhile."""
        with self._lock:
            if self._state != "started":
                return False
            self._state = "fired"
            return True

    def run(self) -> None:
        self.function(*self.args, **self.kwargs)


def install(environ: Mapping[str, str] = os.environ) -> bool:
    """Serve LocalStack's Lambda execution-environment timers from one thread; False: left as is."""
    if environ.get(TIMERS_ENV, "") == "default":
        return False
    from localstack.services.lambda_.invocation import execution_environment

    execution_environment.Timer = ScheduledTimer  # type: ignore[attr-defined,misc]
    return True
