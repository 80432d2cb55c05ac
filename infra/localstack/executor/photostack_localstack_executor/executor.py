"""The LocalStack side: start, invoke and stop one function environment as a process.

The Docker container becomes ``runtime.py`` running under a Python that mirrors the Lambda
runtime (``PHOTOSTACK_LAMBDA_PYTHON``), with the function's code and its layers' ``python/``
folders on the path. It talks to us over pipes (runtime.py's pipe channel): one JSON line per
invocation and one per answer (logs and response or error together). LocalStack's
``ExecutorEndpoint`` protocol (an HTTP POST to the environment, then the environment's POSTs of
logs and response back through LocalStack's gateway) cost three HTTP requests per invocation,
two of them through the gateway's whole handler chain.

The processes come from a pool per function version, bounded by the local concurrency policy
(pool.py, ``PHOTOSTACK_LAMBDA_MAX_ENVIRONMENTS``): LocalStack's environments share them.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import os
import sys
import threading
import uuid
from pathlib import Path

from localstack import config
from localstack.aws.api.lambda_ import ThrottleReason, TooManyRequestsException
from localstack.services.lambda_.invocation.executor_endpoint import NAMESPACE, StatusErrorException
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import RuntimeExecutor

from photostack_localstack_executor import hot_reload
from photostack_localstack_executor.metrics import SHIPPER
from photostack_localstack_executor.pool import (
    ANSWER_MARGIN_S,
    EnvironmentGone,
    EnvironmentPool,
    InitError,
    ProcessEnvironment,
    Throttled,
    max_environments,
)

LOG = logging.getLogger(__name__)
RUNTIME_SCRIPT = Path(__file__).with_name("runtime.py")
LOOPBACK = "127.0.0.1"
# An invocation that ends in one of these failed in the runtime (timeout, crash, memory, init), not
# in the function's code: worth a warning in LocalStack's log, where CI failures are read.
LAMBDA_LEVEL_ERRORS = ("Sandbox.", "Runtime.")
# Only these variables of LocalStack's own environment reach a function: the rest
# (LocalStack's settings, the developer's shell) would not exist on AWS.
PASSTHROUGH_ENV = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _lambda_python() -> str:
    return os.environ.get("PHOTOSTACK_LAMBDA_PYTHON") or sys.executable


_POOLS: dict[tuple[str, str], EnvironmentPool] = {}
_POOLS_LOCK = threading.Lock()


def _pool_key(function_version: FunctionVersion) -> tuple[str, str]:
    # A configuration or code change is a new version to LocalStack (new last_modified): new processes.
    return function_version.qualified_arn, str(function_version.config.last_modified)


class ProcessRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self._logs: collections.deque[str] = collections.deque(maxlen=2000)
        self.pool: EnvironmentPool | None = None
        # The log stream of the process that ran this environment's last invocation (see log_stream_name).
        self.log_stream: str | None = None

    # -- lifecycle -------------------------------------------------------------
    def start(self, env_vars: dict[str, str]) -> None:
        key = _pool_key(self.function_version)
        with _POOLS_LOCK:
            pool = _POOLS.get(key)
            if pool is None:
                pool = _POOLS[key] = EnvironmentPool(self._spawner(env_vars), max_environments())
            pool.attach()
        self.pool = pool
        try:
            env = pool.prewarm()  # the cold start, while the pool may grow; else nothing to start
        except InitError as exc:
            self._logs.append(exc.logs)
            payload = json.dumps(exc.error).encode()
            raise StatusErrorException("Environment startup failed", payload=payload) from exc
        except EnvironmentGone as exc:
            raise StatusErrorException("Environment startup failed", payload=json.dumps(
                {"errorMessage": str(exc), "errorType": "Runtime.ExitError"}).encode()) from exc
        if env is not None:
            LOG.debug("started environment %s (pid %s, %.0f ms)", self.id, env.pid, env.init_ms)

    def _spawner(self, env_vars: dict[str, str]):  # type: ignore[no-untyped-def]
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
        })
        if hot := hot_reload.folders(self.function_version):  # make dev: runtime.py reloads on save
            env[hot_reload.ENV_VAR] = os.pathsep.join(hot)
        argv = [_lambda_python(), str(RUNTIME_SCRIPT)]
        output = self._logs  # the first environment's output buffer: what a startup failure shows
        qualifier = self.function_version.id.qualifier

        def spawn() -> ProcessEnvironment:
            # Each process is an execution environment of its own, with its own log stream (as on AWS).
            stream = f"{dt.date.today():%Y/%m/%d}/[{qualifier}]{uuid.uuid4().hex}"
            return ProcessEnvironment(argv, dict(env, AWS_LAMBDA_LOG_STREAM_NAME=stream), str(code_dir),
                                      output)

        return spawn

    def stop(self) -> None:
        pool, self.pool = self.pool, None
        if pool is None:
            return
        with _POOLS_LOCK:
            if pool.detach() and _POOLS.get(_pool_key(self.function_version)) is pool:
                del _POOLS[_pool_key(self.function_version)]

    # -- addresses ----------------------------------------------------------------
    def get_address(self) -> str:
        return LOOPBACK

    def get_endpoint_from_executor(self) -> str:
        return LOOPBACK

    def get_runtime_endpoint(self) -> str:
        """Where an environment would call back (LocalStack puts it into the environment's
        variables); the pipe channel needs no callback, so nothing listens there."""
        port = config.GATEWAY_LISTEN[0].port
        return f"http://{LOOPBACK}:{port}{NAMESPACE}/{self.id}"

    # -- invocations --------------------------------------------------------------
    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        pool = self.pool
        if pool is None:
            raise EnvironmentGone(f"environment {self.id} is stopped")
        timeout_s = float(self.function_version.config.timeout)
        try:
            env = pool.acquire(wait_s=timeout_s)
        except Throttled as exc:
            LOG.warning("%s %s throttled: %s", self._name(), request_id, exc)
            raise TooManyRequestsException(
                "Rate Exceeded.", Type="User", Reason=ThrottleReason.ConcurrentInvocationLimitExceeded,
            ) from exc
        except InitError as exc:  # a fresh process for this invocation could not load the code
            LOG.warning("%s %s: a fresh environment failed its init: %s", self._name(), request_id,
                        exc.error.get("errorMessage"))
            self.log_stream = None
            error = json.dumps(exc.error).encode()
            return InvocationResult(request_id, error, is_error=True, logs=exc.logs)
        self.log_stream = env.log_stream or None
        try:
            answer = env.invoke(payload, wait_s=timeout_s + ANSWER_MARGIN_S)
        except EnvironmentGone as exc:
            LOG.warning("%s %s: environment pid %s gone: %s", self._name(), request_id, env.pid, exc)
            env.stop()
            message = f"RequestId: {request_id} Error: Runtime exited with error: {exc}"
            error = {"errorMessage": message, "errorType": "Runtime.ExitError"}
            return InvocationResult(request_id, json.dumps(error).encode(), is_error=True,
                                    logs=message + "\n")
        finally:
            pool.release(env)
        logs = str(answer.get("logs") or "")
        if logs:
            SHIPPER.ship(logs)  # CloudWatch's EMF extraction, which LocalStack lacks
        if answer.get("type") == "result":
            body: bytes = answer["body"]  # the result's JSON text as the function's json.dumps wrote it
            return InvocationResult(request_id, body, is_error=False, logs=logs)
        error_doc = answer.get("error") or {}
        if str(error_doc.get("errorType", "")).startswith(LAMBDA_LEVEL_ERRORS):
            # LocalStack logs a function's errors at debug only; these are the runtime's, not the code's.
            LOG.warning("%s %s: %s: %s", self._name(), request_id, error_doc.get("errorType"),
                        error_doc.get("errorMessage"))
        error = json.dumps(answer.get("error")).encode()
        return InvocationResult(request_id, error, is_error=True, logs=logs)

    def _name(self) -> str:
        return str(self.function_version.id.function_name)

    def get_logs(self) -> str:
        return "".join(self._logs)

    @staticmethod
    def log_stream_name(get_log_stream_name):  # type: ignore[no-untyped-def]
        """LocalStack's ``ExecutionEnvironment.get_log_stream_name``, naming the stream of the process
        that ran the environment's invocation. LocalStack's environments are handles on a few pooled
        processes here: a stream per handle meant a PutLogEvents per handle (32 under ab -c 32) where
        a stream per process makes it one per running process; and the stream the function reads from
        ``AWS_LAMBDA_LOG_STREAM_NAME`` is now the one its lines go to. LocalStack stores an
        invocation's logs while it still holds the environment, so the name is that invocation's."""
        def named(environment):  # type: ignore[no-untyped-def]
            stream = getattr(environment.runtime_executor, "log_stream", None)
            return stream or get_log_stream_name(environment)

        named.photostack_process_stream = True
        return named

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
