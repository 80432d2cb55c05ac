"""The local concurrency policy of the process executor (pool.py), with real runtime.py processes.

pool.py imports nothing of LocalStack, so it is loaded from its file; the environments are the
same runtime.py supervisor + worker that LocalStack's executor starts, over the pipe channel.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "infra" / "localstack" / "executor" / "photostack_localstack_executor"
LAMBDA_PYTHON = ROOT / ".state" / "lambda-runtime" / "bin" / "python"

HANDLER = textwrap.dedent('''
    import os, time
    if os.environ.get("FAIL_AT_IMPORT"):
        raise ImportError("cannot load on purpose")
    def handler(event, context):
        time.sleep(event.get("sleep", 0))
        return {"pid": os.getpid(), "n": event.get("n")}
''')


def _load_pool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("executor_pool", PACKAGE / "pool.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclass-free, but keep the usual import invariants
    spec.loader.exec_module(module)
    return module


pool_module = _load_pool()


class Function:
    """A handler in a folder and the environment variables LocalStack would give its processes."""

    def __init__(self, folder: Path, timeout_s: int = 10, **extra: str) -> None:
        (folder / "handler.py").write_text(HANDLER)
        self.folder = folder
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "_HANDLER": "handler.handler",
            "AWS_LAMBDA_FUNCTION_NAME": "pool-test",
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout_s),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "LAMBDA_TASK_ROOT": str(folder),
            "PYTHONPATH": str(folder),
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
        python = LAMBDA_PYTHON if LAMBDA_PYTHON.exists() else Path(sys.executable)
        self.argv = [str(python), str(PACKAGE / "runtime.py")]
        self.spawned: list[Any] = []

    def spawn(self) -> Any:
        env = pool_module.ProcessEnvironment(self.argv, self.env, str(self.folder))
        self.spawned.append(env)
        return env

    def pool(self, limit: int) -> Any:
        pool = pool_module.EnvironmentPool(self.spawn, limit)
        pool.attach()
        return pool


def invoke(pool: Any, payload: dict[str, Any], wait_s: float = 60) -> dict[str, Any]:
    env = pool.acquire(wait_s=wait_s)
    try:
        invocation = {"invoke-id": str(uuid.uuid4()), "invoked-function-arn": "arn:aws:lambda:pool-test",
                      "payload": json.dumps(payload)}
        return dict(env.invoke(invocation, wait_s=60))
    finally:
        pool.release(env)


@pytest.fixture
def function(tmp_path: Path) -> Iterator[Function]:
    fn = Function(tmp_path)
    yield fn
    for env in fn.spawned:
        env.stop()


def test_with_the_bound_at_one_concurrent_invocations_all_succeed_in_one_environment(
        function: Function) -> None:
    pool = function.pool(limit=1)
    with ThreadPoolExecutor(6) as threads:
        answers = list(threads.map(lambda n: invoke(pool, {"n": n, "sleep": 0.1}), range(6)))
    assert [a["type"] for a in answers] == ["result"] * 6
    bodies = [json.loads(a["body"]) for a in answers]
    assert sorted(b["n"] for b in bodies) == list(range(6))
    assert len({b["pid"] for b in bodies}) == 1  # one worker served them all, one at a time
    assert pool.peak == 1
    assert len(function.spawned) == 1


def test_the_pool_grows_to_its_bound_and_no_further(function: Function) -> None:
    pool = function.pool(limit=2)
    with ThreadPoolExecutor(8) as threads:
        answers = list(threads.map(lambda n: invoke(pool, {"n": n, "sleep": 0.3}), range(8)))
    assert all(a["type"] == "result" for a in answers)
    assert pool.peak <= 2
    assert len(function.spawned) <= 2
    assert len({json.loads(a["body"])["pid"] for a in answers}) <= 2


def test_each_answer_carries_its_logs_with_start_end_and_report(function: Function) -> None:
    pool = function.pool(limit=1)
    answer = invoke(pool, {"n": 1})
    assert answer["logs"].startswith("START RequestId: ")
    assert "END RequestId: " in answer["logs"]
    assert "REPORT RequestId: " in answer["logs"]


def test_a_queued_invocation_that_gets_no_environment_in_time_is_throttled(function: Function) -> None:
    pool = function.pool(limit=1)
    busy = pool.acquire(wait_s=30)  # the only environment, held as a running invocation would
    try:
        with pytest.raises(pool_module.Throttled):
            pool.acquire(wait_s=0.2)
        assert pool.waiting() == 0  # it left the line when it gave up
    finally:
        pool.release(busy)
    assert invoke(pool, {"n": 2})["type"] == "result"  # and it serves again once released


def test_the_timeout_still_cuts_a_handler_off_and_the_environment_serves_the_next(tmp_path: Path) -> None:
    fn = Function(tmp_path, timeout_s=1)
    try:
        pool = fn.pool(limit=1)
        timed_out = invoke(pool, {"sleep": 5})
        assert timed_out["type"] == "error"
        assert timed_out["error"]["errorMessage"] == "Task timed out after 1.00 seconds"
        after = invoke(pool, {"n": 3})
        assert after["type"] == "result"
        assert json.loads(after["body"])["n"] == 3
        assert len(fn.spawned) == 1  # the same environment, with a fresh worker
    finally:
        for env in fn.spawned:
            env.stop()


def test_code_that_fails_to_load_is_an_init_error_with_its_logs(tmp_path: Path) -> None:
    fn = Function(tmp_path, FAIL_AT_IMPORT="1")
    pool = fn.pool(limit=1)
    with pytest.raises(pool_module.InitError) as failure:
        pool.prewarm()
    assert failure.value.error["errorType"] == "Runtime.ImportModuleError"
    assert "cannot load on purpose" in failure.value.logs
    assert pool.size() == 0
    assert not any(env.alive() for env in fn.spawned)


def test_when_localstack_lets_go_of_every_environment_the_processes_stop(function: Function) -> None:
    pool = function.pool(limit=2)
    pool.attach()  # two LocalStack environments
    pool.prewarm()
    pool.prewarm()
    assert pool.size() == 2
    assert pool.detach() is False
    assert pool.size() == 1  # never more processes than LocalStack environments
    assert pool.detach() is True
    assert pool.size() == 0
    for env in function.spawned:
        env.process.wait(timeout=10)
        assert not env.alive()


@pytest.mark.parametrize(("environ", "cores", "expected"), [
    ({}, 2, 3), ({}, 1, 2), ({}, 16, 17),
    ({"PHOTOSTACK_LAMBDA_MAX_ENVIRONMENTS": "1"}, 8, 1),
    ({"PHOTOSTACK_LAMBDA_MAX_ENVIRONMENTS": " 6 "}, 2, 6),
])
def test_the_bound_defaults_to_one_more_than_the_core_count(environ: dict[str, str], cores: int,
                                                            expected: int) -> None:
    assert pool_module.max_environments(environ, cores) == expected


def test_a_bound_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        pool_module.max_environments({"PHOTOSTACK_LAMBDA_MAX_ENVIRONMENTS": "0"}, 2)


def _until(done: Any, deadline_s: float = 30.0) -> None:
    """Waits for another thread to reach a state (not a timing assumption: it polls until then)."""
    deadline = time.monotonic() + deadline_s
    while not done():
        assert time.monotonic() < deadline, "the other thread never got there"
        time.sleep(0.001)


def test_a_released_environment_goes_to_the_invocation_that_waited_not_to_a_newcomer(
        function: Function) -> None:
    pool = function.pool(limit=1)
    held = pool.acquire(wait_s=30)
    with ThreadPoolExecutor(1) as threads:
        waited = threads.submit(pool.acquire, 30)
        _until(lambda: pool.waiting() == 1)
        pool.release(held)
        # Arriving after the release, it still queues behind the one that waited (and gives up at once).
        with pytest.raises(pool_module.Throttled):
            pool.acquire(wait_s=0)
        served = waited.result(timeout=30)
    assert served is held
    assert pool.waiting() == 0
    pool.release(served)


def test_waiting_invocations_are_served_in_the_order_they_arrived(function: Function) -> None:
    pool = function.pool(limit=1)
    held = pool.acquire(wait_s=30)
    served: list[int] = []

    def wait_in_line(n: int) -> None:
        env = pool.acquire(wait_s=30)
        served.append(n)
        pool.release(env)

    with ThreadPoolExecutor(5) as threads:
        for n in range(5):
            threads.submit(wait_in_line, n)
            _until(lambda n=n: pool.waiting() == n + 1)
        pool.release(held)
    assert served == [0, 1, 2, 3, 4]
    assert pool.waiting() == 0


def test_a_start_that_fails_lets_the_next_waiter_start_a_process(function: Function) -> None:
    gate = threading.Event()
    calls: list[int] = []

    def spawn() -> Any:
        calls.append(len(calls))
        if len(calls) == 1:
            gate.wait(30)
            raise OSError("no process this time")
        return function.spawn()

    pool = pool_module.EnvironmentPool(spawn, 1)
    pool.attach()
    with ThreadPoolExecutor(2) as threads:
        first = threads.submit(pool.acquire, 30)
        _until(lambda: len(calls) == 1)  # the first is starting the only process allowed
        second = threads.submit(pool.acquire, 30)
        _until(lambda: pool.waiting() == 1)
        gate.set()
        with pytest.raises(OSError):
            first.result(timeout=30)
        env = second.result(timeout=30)
    assert env.alive()
    assert pool.waiting() == 0
    pool.release(env)
    assert invoke(pool, {"n": 5})["type"] == "result"
