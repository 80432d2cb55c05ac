"""LocalStack's full garbage collections: each one pauses every request for as long as the heap is big.

LocalStack is one Python process whose heap only grows while the stack runs: botocore's and moto's
models at start-up, then every function log line kept in moto's CloudWatch Logs store (a
``LogEvent`` each), every S3 object's record, and so on. CPython's full (generation 2) collection
walks every tracked object while holding the GIL, so while it runs no request moves: five minutes
after a start with a few thousand API requests, ~940,000 objects and a 430 ms full collection
(gc.collect() timed inside LocalStack), one of which lands inside an ``ab -c 32`` run every few
seconds as the p99.

Here every object that survived a full collection is moved to the permanent generation
(``gc.freeze()``, run when the collection ends): the next full collection walks only what was
allocated since, so its pause stays proportional to the recent allocations, not the whole heap.
Reference counting still frees frozen objects the moment nothing refers to them; what is no longer
collected is a reference cycle among objects that had already survived a full collection and
became garbage later (LocalStack's long-lived stores, models and threads rarely do).
``PHOTOSTACK_LOCALSTACK_GC=default`` leaves CPython's collector as it is.

Each collection's pause is kept per generation (count, total, longest) for the bench and for
``python -c`` inspection; the callback itself costs two clock reads per collection.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from typing import Any

GC_ENV = "PHOTOSTACK_LOCALSTACK_GC"
OLDEST = 2


class Pauses:
    """Collections seen per generation: how many, total and longest pause in milliseconds."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.total_ms = [0.0, 0.0, 0.0]
        self.max_ms = [0.0, 0.0, 0.0]
        self.freezes = 0
        self._started = 0.0
        self._lock = threading.Lock()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"count": list(self.count), "total_ms": [round(t, 1) for t in self.total_ms],
                    "max_ms": [round(m, 1) for m in self.max_ms], "freezes": self.freezes,
                    "frozen_objects": gc.get_freeze_count()}


class FreezeSurvivors:
    """A ``gc.callbacks`` entry: times each collection and freezes the survivors of a full one."""

    def __init__(self, freeze: bool = True) -> None:
        self.freeze = freeze
        self.pauses = Pauses()

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        pauses = self.pauses
        if phase == "start":
            pauses._started = time.perf_counter()
            return
        generation = int(info.get("generation", OLDEST))
        elapsed_ms = (time.perf_counter() - pauses._started) * 1000
        with pauses._lock:
            pauses.count[generation] += 1
            pauses.total_ms[generation] += elapsed_ms
            pauses.max_ms[generation] = max(pauses.max_ms[generation], elapsed_ms)
        if self.freeze and generation == OLDEST:
            gc.freeze()  # the collection is over: what survived it is not walked again
            pauses.freezes += 1


def installed() -> FreezeSurvivors | None:
    return next((cb for cb in gc.callbacks if isinstance(cb, FreezeSurvivors)), None)


def install(environ: dict[str, str] | None = None) -> FreezeSurvivors:
    """Idempotent; ``$PHOTOSTACK_LOCALSTACK_GC=default`` times collections without freezing."""
    environ = dict(os.environ) if environ is None else environ
    freeze = environ.get(GC_ENV, "freeze").strip().lower() != "default"
    callback = installed()
    if callback is None:
        callback = FreezeSurvivors(freeze)
        gc.callbacks.append(callback)
    callback.freeze = freeze
    return callback
