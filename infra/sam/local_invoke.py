"""`photostack-sam local invoke`: SAM's local invoke, without Docker.

    photostack-sam local invoke <LogicalId|FunctionName> [-e events/x.json | -e -]
                   [--env-vars env.json] [--parameter-overrides K=V ...] [-t template.yaml]

Runs the function the way the LocalStack process executor does, with the same pieces:
the Lambda runtime mirror (``.state/lambda-runtime``'s Python) runs the executor's own
``runtime.py`` (supervisor + worker: timeout, memory watchdog, START/END/REPORT), the code
folder and each layer's ``python/`` on the path. The one thing LocalStack normally provides,
its runtime endpoint (``/status/<id>/ready|error``, ``/invocations/<id>/logs|response|error``,
the shape of LocalStack's ``ExecutorEndpoint``), is :class:`RuntimeEndpoint` here.

Layers are what ``make deploy`` ships: the layer folder, its dependencies as infra/deploy.py
installs them for the Lambda platform (``.build/layer-deps-<hash>``, installed here the same
way when missing) and the model files its Metadata bundles, linked together under
``.build/sam-local/`` (symlinks: an edit in ``layers/`` reaches the next invoke).

The logs go to stderr, the result JSON to stdout; a function error prints the error JSON and
exits 1. Template values that name stack resources come from ``.state/stack-outputs.json``
when the local stack is up; without it they stay unset and the command says so, as it says
which local service (LocalStack, PostgreSQL, Redis, Consul, the sidecar) it cannot reach.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import queue
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from infra import deploy  # noqa: E402 (run as a script: the repository is not on the path)
from infra.sam import template_model as tm  # noqa: E402

RUNTIME_SCRIPT = ROOT / "infra/localstack/executor/photostack_localstack_executor/runtime.py"
LAMBDA_PYTHON = Path(os.environ.get("PHOTOSTACK_LAMBDA_PYTHON") or ROOT / ".state/lambda-runtime/bin/python")
LAYERS_DIR = deploy.BUILD / "sam-local"
OUTPUTS_FILE = deploy.STATE / "stack-outputs.json"
# The variables of our own environment that reach the function: the same list as
# executor.PASSTHROUGH_ENV (a unit test keeps them equal; executor.py imports LocalStack).
PASSTHROUGH_ENV = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
LOOPBACK = "127.0.0.1"
SUPPORTED_RUNTIME = "python3.13"


def say(message: str) -> None:
    print(f"photostack-sam: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- layers
def layer_path(template: dict[str, Any], logical_id: str, base: Path = ROOT) -> Path:
    """The layer's ``python/`` folder as the deployed layer has it (deps + source + bundled models)."""
    resource = template["Resources"][logical_id]
    if resource.get("Type") != "AWS::Serverless::LayerVersion":
        raise tm.TemplateError(f"{logical_id} is not a layer of this template")
    content_uri = resource["Properties"]["ContentUri"]
    if not isinstance(content_uri, str) or "://" in content_uri:
        raise tm.TemplateError(f"{logical_id}: only a local ContentUri folder can run here")
    source = (base / content_uri).resolve()  # relative to the template, as SAM reads it
    requirements = source / "requirements.txt"
    entries: dict[str, Path] = {}  # top-level name -> what it links to
    bundled: dict[str, list[Path]] = {}  # package folder -> extra files (models)
    if requirements.is_file():
        deps = deploy.BUILD / f"layer-deps-{hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]}"
        if not deps.exists():
            say(f"{logical_id}: installing its dependencies for the Lambda platform into "
                f".build/{deps.name} (what make deploy does; once)")
            deploy.install_layer_requirements(requirements, deps)
        entries |= {p.name: p for p in deps.iterdir() if p.name not in deploy.SKIP_PARTS}
    entries |= {p.name: p for p in source.iterdir()
                if p.name != "requirements.txt" and p.name not in deploy.SKIP_PARTS}
    for path, name in deploy.bundled_entries(resource.get("Metadata") or {}):
        package = Path(name).parts[1]  # "python/<package>/<file>"
        bundled.setdefault(package, []).append(path)
    key = hashlib.sha256(json.dumps([sorted((k, str(v)) for k, v in entries.items()),
                                     sorted((k, [str(p) for p in v]) for k, v in bundled.items())])
                         .encode()).hexdigest()[:16]
    target = LAYERS_DIR / f"{logical_id}-{key}" / "python"
    if target.is_dir():
        return target
    scratch = target.parent.with_name(f"{target.parent.name}.{os.getpid()}.tmp")
    (scratch / "python").mkdir(parents=True)
    for name, path in entries.items():
        if name in bundled and path.is_dir():  # a real folder: the package's files plus the models
            (scratch / "python" / name).mkdir()
            for item in path.iterdir():
                (scratch / "python" / name / item.name).symlink_to(item)
            continue
        (scratch / "python" / name).symlink_to(path)
    for package, files in bundled.items():
        (scratch / "python" / package).mkdir(exist_ok=True)
        for file in files:
            link = scratch / "python" / package / file.name
            if not link.exists():
                link.symlink_to(file)
    try:
        scratch.rename(target.parent)
    except OSError:  # built at the same moment by another invoke: theirs is the same
        subprocess.run(["rm", "-rf", str(scratch)], check=False)
    return target


# ------------------------------------------------------------------- local services
def stack_outputs(endpoint: str) -> dict[str, str] | None:
    """The deployed stack's outputs, or None when there is no stack or LocalStack is down."""
    if not OUTPUTS_FILE.is_file():
        return None
    try:
        with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=1.0) as response:
            response.read()
    except OSError:
        return None
    outputs: dict[str, str] = json.loads(OUTPUTS_FILE.read_text())
    return outputs


def _address(var: str, value: str) -> tuple[str, int] | None:
    if not value:
        return None
    if "://" in value:
        parts = urllib.parse.urlsplit(value)
        default = {"postgresql": 5432, "postgres": 5432, "redis": 6379, "http": 80, "https": 443}
        return (parts.hostname or LOOPBACK, parts.port or default.get(parts.scheme, 0))
    host, _, port = value.rpartition(":")
    return (host or LOOPBACK, int(port)) if port.isdigit() else None


SERVICES = {  # variable -> what it is, for the "cannot reach" lines
    "AWS_ENDPOINT_URL": "LocalStack", "PHOTOSTACK_DATABASE_URL": "PostgreSQL",
    "PHOTOSTACK_REDIS_URL": "Redis", "PHOTOSTACK_CONSUL_ADDR": "Consul",
    "PHOTOSTACK_SIDECAR_ADDR": "the photo sidecar",
}


def unreachable(env: dict[str, str]) -> list[str]:
    """One line per local service the function is configured for but that does not answer."""

    def probe(var: str) -> str | None:
        address = _address(var, env.get(var, ""))
        if address is None:
            return None
        try:
            with socket.create_connection(address, timeout=0.5):
                return None
        except OSError as exc:
            return f"cannot reach {SERVICES[var]} at {address[0]}:{address[1]} ({var}): {exc.strerror or exc}"

    with ThreadPoolExecutor(len(SERVICES)) as pool:
        return [line for line in pool.map(probe, SERVICES) if line]


# ------------------------------------------------------------------ runtime endpoint
@dataclass
class Outcome:
    ok: bool
    body: bytes  # the result JSON, or the error JSON
    logs: str


class RuntimeEndpoint:
    """LocalStack's ExecutorEndpoint, reduced to one environment on a loopback port."""

    def __init__(self) -> None:
        self.env_id = uuid.uuid4().hex
        self.status: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._results: dict[str, queue.Queue[tuple[str, bytes]]] = {}
        self._logs: dict[str, str] = {}
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # runtime.py keeps one connection alive

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                code = endpoint.receive(self.path, body)
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                # The supervisor's kept-alive connection is reset when we stop it: not an error.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self.server = Server((LOOPBACK, 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server.server_address[1]}/_localstack_lambda/{self.env_id}"

    def _result_queue(self, request_id: str) -> queue.Queue[tuple[str, bytes]]:
        with self._lock:
            return self._results.setdefault(request_id, queue.Queue())

    def receive(self, path: str, body: bytes) -> int:
        parts = path.strip("/").split("/")
        if len(parts) != 5 or parts[:2] != ["_localstack_lambda", self.env_id]:
            return 404
        kind, ident, what = parts[2:]
        if kind == "status" and what in ("ready", "error"):
            self.status.put((what, body))
        elif kind == "invocations" and what == "logs":
            with self._lock:
                self._logs[ident] = self._logs.get(ident, "") + json.loads(body or b"{}").get("logs", "")
        elif kind == "invocations" and what in ("response", "error"):
            self._result_queue(ident).put((what, body))
        else:
            return 404
        return 202

    def wait_result(self, request_id: str, timeout_s: float, alive: Any) -> tuple[str, bytes] | None:
        deadline = time.monotonic() + timeout_s
        results = self._result_queue(request_id)
        while time.monotonic() < deadline:
            try:
                return results.get(timeout=0.05)
            except queue.Empty:
                if not alive():
                    with contextlib.suppress(queue.Empty):
                        return results.get(timeout=0.2)
                    return None
        return None

    def take_logs(self, request_id: str) -> str:
        with self._lock:
            return self._logs.pop(request_id, "")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------- environment
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


class InitError(Exception):
    def __init__(self, error: bytes, logs: str) -> None:
        super().__init__(error.decode("utf-8", "replace"))
        self.error, self.logs = error, logs


class LocalEnvironment:
    """One function environment: runtime.py under the Lambda runtime mirror, started once."""

    def __init__(self, spec: tm.FunctionSpec, code_dir: Path, layer_paths: list[Path],
                 env: dict[str, str]) -> None:
        self.spec = spec
        self.code_dir = code_dir
        self.endpoint = RuntimeEndpoint()
        self.port = _free_port()
        self.arn = f"arn:aws:lambda:{env.get('AWS_REGION', 'us-east-1')}:000000000000:function:{spec.name}"
        full = {k: os.environ[k] for k in PASSTHROUGH_ENV if k in os.environ}
        full.update(env)
        full.update({
            "LOCALSTACK_RUNTIME_ID": self.endpoint.env_id,
            "LOCALSTACK_RUNTIME_ENDPOINT": self.endpoint.url,
            "LAMBDA_TASK_ROOT": str(self.code_dir),
            "PYTHONPATH": os.pathsep.join([str(self.code_dir), *map(str, layer_paths)]),
            "PYTHONUNBUFFERED": "1",
            "PHOTOSTACK_RUNTIME_PORT": str(self.port),
        })
        self.env = full
        self.process: subprocess.Popen[bytes] | None = None
        self._output: deque[str] = deque(maxlen=500)  # the supervisor's own stdout (init failures)

    def start(self, timeout_s: float = 30.0) -> float:
        """Start the supervisor and wait for its ready (the cold start); returns milliseconds."""
        started = time.monotonic()
        self.process = subprocess.Popen(
            [str(LAMBDA_PYTHON), str(RUNTIME_SCRIPT)], env=self.env, cwd=str(self.code_dir),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()
        while True:
            try:
                what, body = self.endpoint.status.get(timeout=0.05)
                break
            except queue.Empty:
                if self.process.poll() is not None or time.monotonic() - started > timeout_s:
                    time.sleep(0.1)  # the pump's last lines
                    error = {"errorMessage": "the runtime exited before it was ready",
                             "errorType": "Runtime.ExitError"}
                    what, body = "error", json.dumps(error).encode()
                    break
        if what != "ready":
            time.sleep(0.1)
            raise InitError(body, "".join(self._output))
        return (time.monotonic() - started) * 1000

    def _pump(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            self._output.append(raw.decode("utf-8", "replace"))

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def invoke(self, event: bytes) -> Outcome:
        request_id = str(uuid.uuid4())
        body = json.dumps({"invoke-id": request_id, "invoked-function-arn": self.arn,
                           "payload": event.decode("utf-8"), "trace-id": f"Root=1-{uuid.uuid4().hex[:8]}"})
        connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=10)
        try:
            connection.request("POST", "/invoke", body=body, headers={"Content-Type": "application/json"})
            connection.getresponse().read()
        finally:
            connection.close()
        # runtime.py enforces the timeout itself; the margin covers its logs and a worker restart.
        result = self.endpoint.wait_result(request_id, self.spec.timeout_s + 15, self.alive)
        logs = self.endpoint.take_logs(request_id)
        if result is None:
            error = {"errorMessage": f"RequestId: {request_id} Error: the runtime stopped answering",
                     "errorType": "Runtime.ExitError"}
            return Outcome(False, json.dumps(error).encode(), logs + "".join(self._output))
        what, payload = result
        return Outcome(what == "response", payload, logs)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # The worker is in its own session; it ends when its command pipe (our supervisor) closes.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.endpoint.close()


# ------------------------------------------------------------------------ assembly
@dataclass
class Prepared:
    spec: tm.FunctionSpec
    code_dir: Path
    layer_paths: list[Path]
    env: dict[str, str]
    stack_up: bool


def prepare(template_path: Path, identifier: str | None, parameter_overrides: dict[str, str],
            env_overrides: dict[str, dict[str, str]]) -> Prepared:
    template = deploy.load_template(template_path)
    base = template_path.resolve().parent
    endpoint = deploy.ENDPOINT
    outputs = stack_outputs(endpoint)
    parameters = {**deploy.LOCAL_PARAMETERS, **parameter_overrides}
    resolver = tm.Resolver(template, parameters, outputs, stack_name=deploy.STACK)
    spec = tm.function_spec(template, identifier, resolver, env_overrides)
    if spec.runtime != SUPPORTED_RUNTIME:
        raise tm.TemplateError(f"{spec.logical_id}: runtime {spec.runtime} (only {SUPPORTED_RUNTIME} is "
                               "mirrored here, in .state/lambda-runtime)")
    for var in tm.ignored_overrides(template, spec, env_overrides):
        say(f"--env-vars: {var} is not declared in the template for {spec.logical_id}; ignored (as SAM does)")
    region = os.environ.get("AWS_DEFAULT_REGION", deploy.REGION)
    # What LocalStack's execution environment sets (execution_environment.py), then the template's.
    env = {
        "AWS_DEFAULT_REGION": region, "AWS_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": spec.name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex,
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "LAMBDA_RUNTIME_DIR": str(RUNTIME_SCRIPT.parent), "TZ": ":UTC",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout_s),
        "AWS_ENDPOINT_URL": endpoint,
        "LOCALSTACK_HOSTNAME": urllib.parse.urlsplit(endpoint).hostname or LOOPBACK,
        "EDGE_PORT": str(urllib.parse.urlsplit(endpoint).port or 4566),
        "_HANDLER": spec.handler, "AWS_EXECUTION_ENV": "AWS_Lambda_rapid",
        **spec.environment,
    }
    code_dir = (base / spec.code_uri).resolve()
    if not code_dir.is_dir():
        raise tm.TemplateError(f"{spec.logical_id}: CodeUri {spec.code_uri} is not a folder "
                               "relative to the template")
    layer_paths = [layer_path(template, layer, base) for layer in spec.layers]
    return Prepared(spec, code_dir, layer_paths, env, outputs is not None)


def read_event(source: str | None) -> bytes:
    if source is None:
        return b"{}"
    raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    try:
        json.loads(raw or b"null")
    except json.JSONDecodeError as exc:
        where = "stdin" if source == "-" else source
        raise tm.TemplateError(f"the event ({where}) is not JSON: {exc}") from exc
    return raw


def read_env_vars(path: str | None) -> dict[str, dict[str, str]]:
    if path is None:
        return {}
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise tm.TemplateError(f'{path}: --env-vars takes {{"<LogicalId>"|"Parameters": {{"VAR": "value"}}}}')
    return data


def invoke_command(args: argparse.Namespace) -> int:
    items = [part for item in args.parameter_overrides for part in shlex.split(item)]
    overrides = tm.parse_parameter_overrides(items)
    event = read_event(args.event)
    prepared = prepare(Path(args.template), args.function, overrides, read_env_vars(args.env_vars))
    spec = prepared.spec
    if not prepared.stack_up:
        say(f"the local stack is not up ({OUTPUTS_FILE.relative_to(ROOT)} missing or LocalStack not "
            f"answering at {deploy.ENDPOINT}): values of stack resources are left unset")
    for var, reason in sorted(spec.unresolved.items()):
        say(f"{var} left unset: {reason}")
    for line in unreachable(prepared.env):
        say(line)
    if not LAMBDA_PYTHON.is_file():
        raise tm.TemplateError(f"no Lambda runtime mirror at {LAMBDA_PYTHON} (run make setup)")
    say(f"invoking {spec.logical_id} ({spec.handler}, {spec.runtime}, {spec.memory_mb} MB, "
        f"timeout {spec.timeout_s} s) without Docker")
    environment = LocalEnvironment(spec, prepared.code_dir, prepared.layer_paths, prepared.env)
    try:
        try:
            init_ms = environment.start()
        except InitError as exc:
            sys.stderr.write(exc.logs)
            sys.stdout.write(exc.error.decode("utf-8", "replace") + "\n")
            return 1
        say(f"environment ready in {init_ms:.0f} ms (cold start: runtime and handler import)")
        outcome = environment.invoke(event)
    finally:
        environment.stop()
    sys.stderr.write(outcome.logs)
    sys.stderr.flush()
    sys.stdout.write(outcome.body.decode("utf-8", "replace") + "\n")
    sys.stdout.flush()
    return 0 if outcome.ok else 1


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="photostack-sam",
                                   description="SAM's local commands without Docker (photostack)")
    commands = root.add_subparsers(dest="command", required=True)
    local = commands.add_parser("local", help="run functions locally")
    local_commands = local.add_subparsers(dest="local", required=True)
    invoke = local_commands.add_parser("invoke", help="invoke one function once with an event")
    invoke.add_argument("function", nargs="?", help="the function's logical id (or its FunctionName)")
    invoke.add_argument("-e", "--event", help="JSON event file; '-' reads stdin (default: {})")
    invoke.add_argument("-n", "--env-vars", help='JSON file: {"<LogicalId>"|"Parameters": {"VAR": "value"}}')
    invoke.add_argument("--parameter-overrides", nargs="+", default=[], metavar="KEY=VALUE",
                        help="template parameters (KEY=VALUE or ParameterKey=K,ParameterValue=V)")
    invoke.add_argument("-t", "--template", "--template-file", default=str(ROOT / "template.yaml"))
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return invoke_command(args)
    except (tm.TemplateError, OSError, json.JSONDecodeError) as exc:
        say(f"error: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
