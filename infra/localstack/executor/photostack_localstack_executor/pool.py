"""Function environments as processes, at most N per function version, shared by LocalStack's
environments of that version: the local concurrency policy.

LocalStack starts one more execution environment for every invocation that finds none free, so a
burst of 32 requests started 32 runtimes (64 processes) on a 2-core machine, each importing its
handler at once: the machine thrashed (p99 9.6 s). Here LocalStack's environments are cheap
handles; the processes behind them come from one pool per function version that starts at most
``PHOTOSTACK_LAMBDA_MAX_ENVIRONMENTS`` of them (default: one more than the number of cores the
machine has, ``os.process_cpu_count() + 1``). An invocation that finds every process busy waits in
line (first come, first served) for the next free one instead of starting another.

Why one more than the cores: a warm handler mostly waits on its own I/O (py-spy on the users and
photos workers under ``ab -c 32``: most of their samples in libpq's read/poll or gRPC's wait for
the sidecar), and with exactly one process per core those waits left the CPUs short of work while
32 requests queued. On 2 cores, LocalStack restarted and the stack redeployed per run, runs
alternating, ``bench_load --rows users,photos,burst``: with 3 processes the photo page's p99 was
375-450 ms (mean 415, 5 runs), p95 mean 301 ms, max 583-866 ms; with 2, p99 387-460 ms (mean 438,
4 runs), p95 mean 317 ms, max 734-975 ms; /users/me the same either way (p99 201-234 ms); the first
burst's p99 0.8-1.2 s either way. A small gain, all in the tail. 4 processes were worse (page p99
404 ms, burst p99 1.9 s: more handler imports at once on 2 cores).

What stays as on AWS:
- one invocation per environment (process) at a time; a handler gets its whole timeout from the
  moment it starts, and the runtime still cuts it off at that timeout;
- the wait in line is bounded too: an invocation that has not got an environment within the
  function's timeout is throttled the way Lambda reports it (``TooManyRequestsException``, 429;
  asynchronous invocations are retried by LocalStack's event manager as throttles);
- errors keep their Lambda shape: an init failure of a fresh process is the invocation's
  ``Runtime.*`` error, a timeout is ``Task timed out after N seconds``.

No LocalStack import here, so the policy is tested without LocalStack (tests/integration/executor).
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, cast

MAX_ENVIRONMENTS_ENV = "PHOTOSTACK_LAMBDA_MAX_ENVIRONMENTS"
STARTUP_TIMEOUT_S = 30.0  # the runtime itself gives the handler import 10 s (AWS's init phase)
ANSWER_MARGIN_S = 15.0  # beyond the function's timeout: its logs, a killed worker's replacement


def max_environments(environ: Mapping[str, str] | None = None, cores: int | None = None) -> int:
    """The bound per function version: ``$PHOTOSTACK_LAMBDA_MAX_ENVIRONMENTS``, else the core count
    plus one (so at least 2: one long invocation never holds up every other; the extra one runs
    while the others wait on their I/O, see the module's docstring)."""
    environ = os.environ if environ is None else environ
    raw = environ.get(MAX_ENVIRONMENTS_ENV, "").strip()
    if raw:
        value = int(raw)
        if value < 1:
            raise ValueError(f"{MAX_ENVIRONMENTS_ENV} must be at least 1, not {raw!r}")
        return value
    if cores is None:
        cores = os.process_cpu_count() or 1
    return cores + 1


class InitError(Exception):
    """The function's code failed to load in a fresh environment."""

    def __init__(self, error: dict[str, Any], logs: str) -> None:
        super().__init__(error.get("errorMessage", "init failed"))
        self.error = error
        self.logs = logs


class Throttled(Exception):
    """No environment became free within the wait allowed."""


class EnvironmentGone(Exception):
    """The environment's supervisor exited or stopped answering."""


class ProcessEnvironment:
    """One runtime.py supervisor over the pipe channel: JSON lines in on stdin, out on a pipe (a
    result's line followed by the result's raw JSON text, see runtime.py)."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: str,
                 output: collections.deque[str] | None = None) -> None:
        read_fd, write_fd = os.pipe()
        self.process = subprocess.Popen(
            list(argv), env=dict(env, _PHOTOSTACK_CHANNEL_FD=str(write_fd)), cwd=cwd,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(write_fd,), start_new_session=True,
        )
        os.close(write_fd)
        self._answers: IO[bytes] = os.fdopen(read_fd, "rb")
        # The supervisor's own output (its tracebacks; the handler's lines come with each answer).
        self.output: collections.deque[str] = output if output is not None else collections.deque(maxlen=2000)
        threading.Thread(target=self._pump_output, name=f"lambda-output-{self.process.pid}",
                         daemon=True).start()
        self.init_ms = 0.0
        self.init_logs = ""
        # This environment's CloudWatch log stream, as its function sees it in the Lambda environment.
        self.log_stream = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def _pump_output(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self.output.append(raw.decode("utf-8", "replace"))

    def _read(self, wait_s: float) -> dict[str, Any]:
        ready, _, _ = select.select([self._answers], [], [], max(0.0, wait_s))
        line = self._answers.readline() if ready else b""
        if not line:
            raise EnvironmentGone("the environment exited" if ready else
                                  f"the environment did not answer within {wait_s:.0f} s")
        answer: dict[str, Any] = json.loads(line)
        if answer.get("type") == "result":
            # The result's JSON text follows its line as raw bytes: taken as they are, never parsed here.
            length = int(answer.pop("length"))
            body = self._answers.read(length)
            if len(body) != length or self._answers.read(1) != b"\n":
                raise EnvironmentGone("the environment exited in the middle of an answer")
            answer["body"] = body
        return answer

    def wait_ready(self, wait_s: float = STARTUP_TIMEOUT_S) -> None:
        message = self._read(wait_s)
        self.init_logs = str(message.get("logs") or "")
        if message.get("type") != "ready":
            raise InitError(message.get("error") or {"errorMessage": "Runtime init failed",
                                                     "errorType": "Runtime.Unknown"}, self.init_logs)
        self.init_ms = float(message.get("init_ms") or 0.0)

    def invoke(self, invocation: Mapping[str, Any], wait_s: float) -> dict[str, Any]:
        """One invocation's answer: ``{"id", "logs", "type": "result", "body"}`` (``body``: the result's
        JSON text, bytes) or ``{"id", "logs", "type": "error", "error"}``."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(invocation).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise EnvironmentGone(f"the environment exited: {exc}") from exc
        return self._read(wait_s)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=3)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=3)
        with contextlib.suppress(OSError, ValueError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        with contextlib.suppress(OSError):
            self._answers.close()


_START = object()  # a waiter's grant: start a process of your own (the pool was under its limit)


class _Waiter:
    """One invocation waiting in line; ``grant`` is set (under the pool's lock) when it is served."""

    __slots__ = ("_cond", "grant")

    def __init__(self, lock: threading.Lock) -> None:
        # Its own condition over the pool's lock: a release wakes exactly the waiter it serves.
        self._cond = threading.Condition(lock)
        self.grant: ProcessEnvironment | object | None = None

    def wait(self, timeout: float) -> None:
        self._cond.wait(timeout)

    def notify(self) -> None:
        self._cond.notify()


class EnvironmentPool:
    """At most ``limit`` processes of one function version, handed out one invocation at a time.

    ``attach``/``detach`` count the LocalStack environments that use the pool: processes never
    outnumber them, so LocalStack's keep-alive still scales idle functions down to zero.
    """

    def __init__(self, spawn: Callable[[], ProcessEnvironment], limit: int) -> None:
        if limit < 1:
            raise ValueError("an environment pool needs a limit of at least 1")
        self._spawn = spawn
        self.limit = limit
        self._lock = threading.Lock()
        # Invocations waiting for a process, oldest first: a freed process goes to the oldest one.
        self._waiters: collections.deque[_Waiter] = collections.deque()
        self._idle: list[ProcessEnvironment] = []
        self._running: set[ProcessEnvironment] = set()
        self._starting = 0
        self._attached = 0
        self.peak = 0  # the most processes alive at once (for tests and the bench)

    # -- LocalStack's environments ---------------------------------------------------
    def attach(self) -> None:
        with self._lock:
            self._attached += 1

    def detach(self) -> bool:
        """One LocalStack environment fewer; True when none is left (and every process stopped)."""
        with self._lock:
            self._attached = max(0, self._attached - 1)
            surplus = len(self._running) + self._starting - self._attached
            stopping = []
            while surplus > 0 and self._idle:
                env = self._idle.pop()
                self._running.discard(env)
                stopping.append(env)
                surplus -= 1
            empty = self._attached == 0
            if empty:  # a busy one is stopped when it comes back (release)
                stopping += self._idle
                self._running.difference_update(self._idle)
                self._idle.clear()
        for env in stopping:
            env.stop()
        return empty

    def prewarm(self) -> ProcessEnvironment | None:
        """Start one process now if the pool may grow (LocalStack's ``start``: the cold start)."""
        with self._lock:
            if len(self._running) + self._starting >= self.limit:
                return None
            self._starting += 1
        env = self._start()
        self.release(env)
        return env

    # -- invocations -----------------------------------------------------------------
    def acquire(self, wait_s: float) -> ProcessEnvironment:
        """A free process: an idle one, a new one while under the limit, else the next one released.

        First come, first served: while invocations wait, a released process is handed to the
        oldest of them, never taken by one that arrived later. With one shared condition, a
        newcomer took the process between the release and the woken waiter's return, and the
        waiter that lost went to the back of the line: the slowest requests of a load run were
        the ones that lost this race again and again (a closed loop of 32 threads over 3
        processes, 8-16 ms each: p50 13 ms but p99 4.1 s; handed out in order, p50 132 ms, p99
        145 ms, the same throughput). ``ab -c 32`` on 2 cores, LocalStack restarted and the stack
        redeployed before each run, alternating in one lock hold: ``GET /users/me`` p99 240/235 ms
        vs 343/279 ms before (max 282/298 vs 473/437), the 50-photo page p99 358/372 vs 422/512 ms
        (max 433/447 vs 539/758), requests/s unchanged; over all such runs of that evening, on a
        busy machine, /users/me p99 222-328 ms (7 runs, median 264) vs 279-410 (5, median 343).
        """
        deadline = time.monotonic() + wait_s
        with self._lock:
            if not self._waiters:
                env = self._take_idle()
                if env is not None:
                    return env
                grant: ProcessEnvironment | object | None = None
                if self._has_room():
                    self._starting += 1
                    grant = _START
            else:
                grant = None
            if grant is None:
                waiter = _Waiter(self._lock)
                self._waiters.append(waiter)
                while waiter.grant is None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self._waiters.remove(waiter)
                        raise Throttled(f"no environment free within {wait_s:.0f} s "
                                        f"({self.limit} running, {MAX_ENVIRONMENTS_ENV})")
                    waiter.wait(remaining)
                grant = waiter.grant
        if grant is _START:
            return self._start()
        return cast(ProcessEnvironment, grant)

    def release(self, env: ProcessEnvironment) -> None:
        with self._lock:
            keep = env.alive() and env in self._running and self._attached > 0
            if keep:
                self._idle.append(env)
            else:
                self._running.discard(env)
            self._hand_out()
        if not keep:
            env.stop()

    def _has_room(self) -> bool:
        return len(self._running) + self._starting < self.limit

    def _take_idle(self) -> ProcessEnvironment | None:
        """An idle process that is still alive (the caller holds the condition)."""
        while self._idle:
            env = self._idle.pop()
            if env.alive():
                return env
            self._running.discard(env)
            env.stop()
        return None

    def _hand_out(self) -> None:
        """Give the oldest waiters what is free: an idle process, else leave to start one while
        under the limit (the caller holds the condition)."""
        while self._waiters:
            env = self._take_idle()
            if env is not None:
                grant: ProcessEnvironment | object = env
            elif self._has_room():
                self._starting += 1
                grant = _START
            else:
                return
            waiter = self._waiters.popleft()
            waiter.grant = grant
            waiter.notify()

    def _start(self) -> ProcessEnvironment:
        """Spawn and wait for ready; the caller counted it in ``_starting``."""
        env: ProcessEnvironment | None = None
        try:
            env = self._spawn()
            env.wait_ready()
        except BaseException:
            with self._lock:
                self._starting -= 1
                self._hand_out()  # the place it held is free again: a waiter may start one
            if env is not None:
                env.stop()
            raise
        with self._lock:
            self._starting -= 1
            self._running.add(env)
            self.peak = max(self.peak, len(self._running))
        return env

    def size(self) -> int:
        with self._lock:
            return len(self._running)

    def waiting(self) -> int:
        """Invocations waiting in line for a process."""
        with self._lock:
            return len(self._waiters)

    def stop_all(self) -> None:
        with self._lock:
            everything = list(self._running)
            self._running.clear()
            self._idle.clear()
            self._attached = 0
        for env in everything:
            env.stop()
