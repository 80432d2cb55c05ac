"""The LocalStack side: start, invoke and stop one function environment as a process.

LocalStack's own protocol is kept unchanged by reusing its ``ExecutorEndpoint``:
the environment reports ready/error to ``<runtime endpoint>/status/<id>/...`` and
answers invocations with ``.../invocations/<id>/{logs,response,error}``; we only
replace the Docker container with ``runtime.py`` running under a Python that
mirrors the Lambda runtime (``PHOTOSTACK_LAMBDA_PYTHON``), with the function's
code and its layers' ``python/`` folders on the path.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import RuntimeExecutor

from photostack_localstack_executor.metrics import SHIPPER

LOG = logging.getLogger(__name__)
RUNTIME_SCRIPT = Path(__file__).with_name("runtime.py")
LOOPBACK = "127.0.0.1"
# Only these variables of LocalStack's own environment reach a function: the rest
# (LocalStack's settings, the developer's shell) would not exist on AWS.
PASSTHROUGH_ENV = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def _lambda_python() -> str:
    return os.environ.get("PHOTOSTACK_LAMBDA_PYTHON") or sys.executable


class ProcessRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.port = _free_port()
        self.executor_endpoint = ExecutorEndpoint(id, container_address=LOOPBACK, container_port=self.port)
        self.process: subprocess.Popen[bytes] | None = None
        self._logs: collections.deque[str] = collections.deque(maxlen=2000)

    # -- lifecycle -------------------------------------------------------------
    def start(self, env_vars: dict[str, str]) -> None:
        self.executor_endpoint.start()
        code_dir = self.function_version.config.code.get_unzipped_code_location()
        paths = [str(code_dir)]
        for layer in self.function_version.config.layers:
            layer.code.prepare_for_execution()
            layer_dir = Path(layer.code.get_unzipped_code_location())
            paths.append(str(layer_dir / "python") if (layer_dir / "python").is_dir() else str(layer_dir))
        env = {k: os.environ[k] for k in PASSTHROUGH_ENV if k in os.environ}
        env.update({k: str(v) for k, v in env_vars.items()})
        env.update({
            "LAMBDA_TASK_ROOT": str(code_dir),
            "PYTHONPATH": os.pathsep.join(paths),
            "PYTHONUNBUFFERED": "1",
            "PHOTOSTACK_RUNTIME_PORT": str(self.port),
        })
        self.process = subprocess.Popen(
            [_lambda_python(), str(RUNTIME_SCRIPT)],
            env=env, cwd=str(code_dir), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        threading.Thread(target=self._pump_logs, name=f"lambda-logs-{self.id}", daemon=True).start()
        LOG.debug("started environment %s (pid %s, port %s)", self.id, self.process.pid, self.port)
        self.executor_endpoint.wait_for_startup()

    def _pump_logs(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            self._logs.append(raw.decode("utf-8", "replace"))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=3)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
        try:
            self.executor_endpoint.shutdown()
        except Exception as exc:  # already unregistered: nothing left to release
            LOG.debug("endpoint shutdown for %s: %s", self.id, exc)

    # -- addresses ----------------------------------------------------------------
    def get_address(self) -> str:
        return LOOPBACK

    def get_endpoint_from_executor(self) -> str:
        return LOOPBACK

    def get_runtime_endpoint(self) -> str:
        port = config.GATEWAY_LISTEN[0].port
        return f"http://{LOOPBACK}:{port}{self.executor_endpoint.get_endpoint_prefix()}"

    # -- invocations --------------------------------------------------------------
    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        result = self.executor_endpoint.invoke(payload)
        if result.logs:
            SHIPPER.ship(result.logs)  # CloudWatch's EMF extraction, which LocalStack lacks
        return result

    def get_logs(self) -> str:
        return "".join(self._logs)

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()
        for layer in function_version.config.layers:
            layer.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        """Unpacked code stays in LocalStack's cache, as with the Docker executor."""

    @classmethod
    def validate_environment(cls) -> bool:
        python = _lambda_python()
        if not os.access(python, os.X_OK):
            LOG.warning("PHOTOSTACK_LAMBDA_PYTHON=%s is not executable", python)
            return False
        return True
