"""A function environment as a process: what the Lambda runtime interface does in Docker.

Stdlib only; run by the Lambda runtime's Python with the function code and layers
on PYTHONPATH. Two processes:

* the **supervisor** (this file's ``main``) takes invocations, reports ready/error at start-up,
  enforces the function's timeout and memory size, and answers each invocation with its logs
  and the response or error. Two channels:
  - **pipe** (what the LocalStack executor uses, ``$_PHOTOSTACK_CHANNEL_FD`` set): one JSON line
    per invocation on stdin, one JSON line per answer (``ready``/``init_error`` first) on that fd;
    a result's answer line carries ``"length"`` and the result's JSON text follows it as raw bytes
    (``length`` of them, then a newline). No HTTP and no callback through LocalStack's gateway;
  - **http** (LocalStack's ``ExecutorEndpoint`` protocol, used by ``photostack-sam local invoke``):
    listens on 127.0.0.1:$PHOTOSTACK_RUNTIME_PORT for ``POST /invoke`` and posts logs and the
    response or error back to ``$LOCALSTACK_RUNTIME_ENDPOINT``;
* a **worker** (``--worker``) imports the handler once (the cold start) and runs
  invocations one at a time. On a timeout or when it grows past the memory size the
  supervisor kills it and starts a fresh one, so the environment stays usable (a
  dead port would leave LocalStack sending the next invoke into the void).

Supervisor → worker: one JSON line per invocation on the worker's stdin.
Worker → supervisor: lines on a dedicated pipe (fd in $_PHOTOSTACK_RESULT_FD): JSON messages, and
a result as RESULT_PREFIX followed by the result's JSON text.
The worker's stdout/stderr are the function's logs; after each invocation the worker
prints an end marker so the supervisor knows it has every log line of that request.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
import traceback

# Every import here is paid twice per cold start (the worker runs this same file), so http.client
# and http.server (with ssl and email) are imported only by the http channel, which the LocalStack
# executor does not use, and typing only by type checkers: runtime.py's import went from ~80 to
# ~40 ms on this 2-core machine (python -X importtime, best of 7).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import http.client
    from typing import Any

END_MARKER = "\x1e__photostack_end__ "
# A result from the worker: this prefix, then the result's JSON text as json.dumps wrote it (ASCII,
# never a raw newline), then "\n". Neither the supervisor nor the executor parses or escapes that
# text: it is sliced off the line and sent on after a header line that gives its length. (Sent as
# a JSON string inside JSON lines, a 65 KB photos page was escaped by the worker and unescaped by
# LocalStack on every invocation.) Not "{", so no JSON message line can look like a result.
RESULT_PREFIX = "\x1eresult "
INIT_TIMEOUT_S = 10.0  # AWS gives the init phase 10 s


# --------------------------------------------------------------------------- worker
class LambdaContext:
    """The subset of the Lambda context object that handlers use."""

    def __init__(self, request_id: str, arn: str, deadline_ms: int) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _load_handler(spec: str) -> Any:
    module_name, _, attr = spec.rpartition(".")
    module = importlib.import_module(module_name.replace("/", "."))
    return getattr(module, attr)


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def worker_main() -> None:
    results = os.fdopen(int(os.environ.pop("_PHOTOSTACK_RESULT_FD")), "w", buffering=1)
    commands = os.fdopen(os.dup(0), "r")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the handler must not read our command stream

    def send(message: dict[str, Any]) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        results.write(json.dumps(message) + "\n")

    def end_logs(request_id: str) -> None:
        sys.stderr.flush()
        sys.stdout.write(f"{END_MARKER}{request_id}\n")
        sys.stdout.flush()

    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    try:
        handler = _load_handler(os.environ["_HANDLER"])
    except Exception as exc:
        traceback.print_exc()
        end_logs("init")
        send({"type": "init_error", "error": _error(exc) | {"errorType": "Runtime.ImportModuleError"}})
        return
    end_logs("init")
    send({"type": "ready"})

    for line in commands:
        command = json.loads(line)
        request_id = command["id"]
        context = LambdaContext(request_id, command["arn"], command["deadline_ms"])
        try:
            result = handler(json.loads(command["payload"]), context)
            body = json.dumps(result)
        except Exception as exc:
            print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr)
            traceback.print_exc()
            end_logs(request_id)
            send({"type": "error", "error": _error(exc)})
        else:
            end_logs(request_id)
            sys.stdout.flush()
            sys.stderr.flush()
            results.write(f"{RESULT_PREFIX}{body}\n")


# ----------------------------------------------------------------------- supervisor
class RuntimeApi:
    """POSTs to LocalStack's runtime endpoint over one kept-alive connection.

    A fresh connection per POST (urllib) cost ~50 ms each on loopback, twice per invocation.
    """

    def __init__(self, endpoint: str) -> None:
        import urllib.parse

        parts = urllib.parse.urlsplit(endpoint)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self._conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes) -> None:
        import http.client

        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self._conn.request("POST", self.prefix + path, body=body,
                                   headers={"Content-Type": "application/json"})
                response = self._conn.getresponse()
                response.read()
                if response.will_close:
                    self._conn.close()
                    self._conn = None
                return
            except (OSError, http.client.HTTPException):
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
                if attempt == 2:
                    raise


def _rss_mb(pid: int, field: str = "VmRSS") -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Worker:
    """One worker process and the streams to it."""

    def __init__(self, echo: bool = True) -> None:
        # echo: copy the function's output to our stdout too (the http channel's only log of an
        # init failure). The pipe channel returns every line with its invocation instead.
        self.echo = echo
        read_fd, write_fd = os.pipe()
        env = dict(os.environ, _PHOTOSTACK_RESULT_FD=str(write_fd))
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker"], env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(write_fd,), start_new_session=True,
        )
        os.close(write_fd)
        self.results = os.fdopen(read_fd, "r")
        self._lines: queue.Queue[str] = queue.Queue()
        self._ended: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        threading.Thread(target=self._pump_logs, daemon=True).start()

    def _pump_logs(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace")
            if line.startswith(END_MARKER):
                self._end_event(line[len(END_MARKER):].strip()).set()
            else:
                self._lines.put(line)
                if self.echo:
                    sys.stdout.write(line)

    def _end_event(self, request_id: str) -> threading.Event:
        with self._lock:
            return self._ended.setdefault(request_id, threading.Event())

    def drain_logs(self, request_id: str, wait_s: float = 2.0) -> str:
        """Every log line up to the end marker of ``request_id`` (or what came, if none)."""
        self._end_event(request_id).wait(wait_s)
        with self._lock:
            self._ended.pop(request_id, None)
        lines = []
        while True:
            try:
                lines.append(self._lines.get_nowait())
            except queue.Empty:
                return "".join(lines)

    def read_message(self, deadline: float, memory_mb: float) -> dict[str, Any] | str:
        """The worker's next message, or "timeout" / "oom" / "exited"."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            ready, _, _ = select.select([self.results], [], [], min(remaining, 0.05))
            if ready:
                line = self.results.readline()
                if not line:
                    return "exited"
                if line.startswith(RESULT_PREFIX):
                    if not line.endswith("\n"):
                        return "exited"  # cut short: the worker died while writing it
                    return {"type": "result", "body_json": line[len(RESULT_PREFIX):-1]}
                return json.loads(line)
            if memory_mb and _rss_mb(self.process.pid) > memory_mb:
                return "oom"
            if self.process.poll() is not None:
                return "exited"

    def send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        self.process.stdin.flush()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def max_memory_mb(self) -> int:
        return round(_rss_mb(self.process.pid, "VmHWM"))


def _watch_hot_reload_folders(on_change: Any) -> Any:
    """hot_reload.py's watcher on the folders the executor names (hot-reloading code and layers), if any."""
    if not os.environ.get("PHOTOSTACK_HOT_RELOAD_PATHS"):
        return None
    import importlib.util

    # Loaded by path: this file runs as a script (here, in the Lambda runtime's Python), not as a package.
    spec = importlib.util.spec_from_file_location(
        "photostack_hot_reload", os.path.join(os.path.dirname(os.path.abspath(__file__)), "hot_reload.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.watch_from_env(on_change)


class Supervisor:
    def __init__(self) -> None:
        channel_fd = os.environ.pop("_PHOTOSTACK_CHANNEL_FD", "")  # not the worker's to inherit
        self.channel = os.fdopen(int(channel_fd), "w", buffering=1) if channel_fd else None
        self.api = None if self.channel else RuntimeApi(os.environ["LOCALSTACK_RUNTIME_ENDPOINT"])
        self.runtime_id = os.environ.get("LOCALSTACK_RUNTIME_ID", "")
        self.timeout_s = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
        self.memory_mb = float(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "0"))
        self.invocations: queue.Queue[dict[str, Any]] = queue.Queue()
        self.worker: Worker | None = None
        self.init_error: dict[str, Any] | None = None
        self.init_logs = ""
        # Hot reload (hot_reload.py): a watched folder changed; a worker already started on the saved code.
        self.code_changed = threading.Event()
        self.fresh: tuple[Worker, float, str] | None = None
        self.fresh_lock = threading.Lock()
        self.watcher = _watch_hot_reload_folders(self.start_fresh_worker)

    def start_fresh_worker(self) -> None:
        """Hot reload, on the watcher's thread: init a worker on the saved code now, as LocalStack restarts
        the runtime at once; the next invocation swaps it in (or, if its init failed, reports why)."""
        started = time.monotonic()
        fresh: Worker | None = Worker(echo=self.channel is None)
        assert fresh is not None
        message = fresh.read_message(started + INIT_TIMEOUT_S, self.memory_mb)
        logs = fresh.drain_logs("init", wait_s=0.5)
        if not (isinstance(message, dict) and message.get("type") == "ready"):
            fresh.kill()
            fresh = None
        ready = (fresh, (time.monotonic() - started) * 1000, logs) if fresh else None
        with self.fresh_lock:
            stale, self.fresh = self.fresh, ready
            self.code_changed.set()
        if stale is not None:
            stale[0].kill()

    # The environment is cold until a worker has imported the handler.
    def start_worker(self) -> float:
        started = time.monotonic()
        self.worker = Worker(echo=self.channel is None)
        message = self.worker.read_message(started + INIT_TIMEOUT_S, self.memory_mb)
        self.init_logs = self.worker.drain_logs("init", wait_s=0.5)
        if isinstance(message, dict) and message.get("type") == "ready":
            self.init_error = None
        else:
            reason = message if isinstance(message, str) else "init error"
            self.init_error = (message.get("error") if isinstance(message, dict) else None) or {
                "errorMessage": f"Runtime init failed: {reason}", "errorType": "Runtime.InitError"}
            self.worker.kill()
            self.worker = None
        return (time.monotonic() - started) * 1000

    def status(self, what: str, body: dict[str, Any] | None = None) -> None:
        assert self.api is not None
        self.api.post(f"/status/{self.runtime_id}/{what}", json.dumps(body or {}).encode())

    def run(self) -> None:
        if self.channel is not None:
            self.serve_pipe(self.channel)
        else:
            self.serve_http()

    def serve_pipe(self, channel: Any) -> None:
        """Invocations as JSON lines on stdin, answers as JSON lines on the channel, in order (a result's
        line is followed by its JSON text, raw)."""
        def answer(message: dict[str, Any]) -> None:
            channel.write(json.dumps(message) + "\n")

        init_ms = self.start_worker()
        if self.init_error is not None:
            answer({"type": "init_error", "error": self.init_error, "logs": self.init_logs})
            return
        answer({"type": "ready", "init_ms": round(init_ms, 2), "logs": self.init_logs})
        stdin = sys.stdin.buffer
        while line := stdin.readline():  # EOF: the executor stopped us, or LocalStack is gone
            invocation = json.loads(line)
            logs, outcome = self.execute(invocation)
            if outcome["type"] == "result":  # the result's JSON text as the worker wrote it, unparsed
                body = outcome["body_json"]
                # isascii() is O(1) on a str, and json.dumps' text is ASCII: its length is its byte count.
                length = len(body) if body.isascii() else len(body.encode())
                channel.write(f'{{"id": {json.dumps(invocation["invoke-id"])}, "logs": {json.dumps(logs)}, '
                              f'"type": "result", "length": {length}}}\n{body}\n')
            else:
                answer({"id": invocation["invoke-id"], "logs": logs, "type": "error",
                        "error": outcome["error"]})
            self.replace_worker()
        if self.worker is not None:
            self.worker.kill()

    def serve_http(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        port = int(os.environ["PHOTOSTACK_RUNTIME_PORT"])
        supervisor = self

        class InvokeHandler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/invoke":
                    self.send_response(404)
                    self.end_headers()
                    return
                supervisor.invocations.put(body)
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), InvokeHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.start_worker()
        if self.init_error is not None:
            sys.stdout.write(self.init_logs)
            self.status("error", self.init_error)
            return
        self.status("ready")
        parent = os.getppid()
        while True:
            try:
                invocation = self.invocations.get(timeout=1.0)
            except queue.Empty:
                # LocalStack stops environments itself; if it died instead, do not outlive it.
                if os.getppid() != parent:
                    if self.worker is not None:
                        self.worker.kill()
                    return
                continue
            self.invoke(invocation)

    def invoke(self, invocation: dict[str, Any]) -> None:
        """The http channel: run one invocation and post its logs and outcome to LocalStack."""
        import http.client

        assert self.api is not None
        request_id = invocation["invoke-id"]
        base = f"/invocations/{request_id}"
        logs, outcome = self.execute(invocation)
        try:
            self.api.post(f"{base}/logs", json.dumps({"logs": logs}).encode())
            if outcome["type"] == "result":
                self.api.post(f"{base}/response", outcome["body_json"].encode())
            else:
                self.api.post(f"{base}/error", json.dumps(outcome["error"]).encode())
        except (OSError, http.client.HTTPException) as exc:
            # LocalStack gone or the invocation cancelled: keep serving the next one.
            print(f"could not report invocation {request_id}: {exc}", file=sys.stderr)
        self.replace_worker()

    def replace_worker(self) -> None:
        if self.worker is None and self.init_error is None:
            self.start_worker()  # warm a replacement now rather than in the next invoke

    def execute(self, invocation: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Run one invocation in the worker: its logs (START ... REPORT) and its outcome."""
        request_id = invocation["invoke-id"]
        started = time.monotonic()
        init_ms = 0.0
        if self.code_changed.is_set():  # hot reload: this invocation runs the saved code
            with self.fresh_lock:
                self.code_changed.clear()
                fresh, self.fresh = self.fresh, None
            if self.worker is not None:
                self.worker.kill()
            self.worker = None
            if fresh is not None:
                (self.worker, init_ms, self.init_logs), self.init_error = fresh, None
        if self.worker is None:  # replaced after a timeout, a crash or an OOM kill
            init_ms = self.start_worker()
        version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        logs = [f"START RequestId: {request_id} Version: {version}\n"]
        if self.worker is None:
            logs.append(self.init_logs)
            outcome: dict[str, Any] | str = {"type": "error", "error": self.init_error}
            max_mb = 0
        else:
            deadline_wall_ms = int((time.time() + self.timeout_s) * 1000)
            self.worker.send({"id": request_id, "arn": invocation.get("invoked-function-arn", ""),
                              "payload": invocation.get("payload", "{}"), "deadline_ms": deadline_wall_ms})
            outcome = self.worker.read_message(started + self.timeout_s, self.memory_mb)
            max_mb = self.worker.max_memory_mb()
            if isinstance(outcome, str):
                self.worker.kill()
            logs.append(self.worker.drain_logs(request_id, wait_s=2.0 if isinstance(outcome, dict) else 0.2))
            if isinstance(outcome, str):
                self.worker = None
        duration_ms = (time.monotonic() - started) * 1000
        if outcome == "timeout":
            message = f"Task timed out after {self.timeout_s:.2f} seconds"
            logs.append(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {request_id} {message}\n")
            outcome = {"type": "error", "error": {"errorMessage": message, "errorType": "Sandbox.Timedout"}}
        elif outcome in ("oom", "exited"):
            reason = "signal: killed" if outcome == "oom" else "exit status 1"
            error_type = "Runtime.OutOfMemory" if outcome == "oom" else "Runtime.ExitError"
            message = f"RequestId: {request_id} Error: Runtime exited with error: {reason}"
            logs.append(message + "\n")
            outcome = {"type": "error", "error": {"errorMessage": message, "errorType": error_type}}
        assert isinstance(outcome, dict)
        logs.append(f"END RequestId: {request_id}\n")
        report = (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
                  f"Billed Duration: {max(1, round(duration_ms))} ms\t"
                  f"Memory Size: {int(self.memory_mb)} MB\tMax Memory Used: {max_mb} MB")
        if init_ms:
            report += f"\tInit Duration: {init_ms:.2f} ms"
        logs.append(report + "\n")
        return "".join(logs), outcome


def main() -> None:
    if "--worker" in sys.argv:
        worker_main()
    else:
        Supervisor().run()


if __name__ == "__main__":
    main()
