"""Platform benchmark: our process executor against the same handler in-process.

Cold start and warm invoke through LocalStack's Lambda API, the API Gateway round trip,
and the handler called directly in this process as the reference; `make up` when
everything is already up.
"""

from __future__ import annotations

import io
import json
import subprocess
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import requests

from tests.bench.stats import percentile, summary_ms
from tests.conftest import aws_client

ROOT = Path(__file__).resolve().parents[2]
HANDLER = "def handler(event, context):\n    return {'ok': True, 'n': event.get('n')}\n"
WARM_INVOKES = 200
COLD_STARTS = 15


def _timed(fn: Any, n: int) -> list[float]:
    samples = []
    for i in range(n):
        started = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - started)
    return samples


def _in_environment(samples: int) -> list[float]:
    """The same handler through one function environment alone: the executor's pipe channel
    (pool.py's ProcessEnvironment) into runtime.py's supervisor and worker and back, without
    LocalStack. What the warm invoke costs inside the environment (runtime.py's loop)."""
    import importlib.util
    import tempfile

    package = ROOT / "infra" / "localstack" / "executor" / "photostack_localstack_executor"
    spec = importlib.util.spec_from_file_location("bench_executor_pool", package / "pool.py")
    assert spec is not None and spec.loader is not None
    pool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pool)
    python = ROOT / ".state" / "lambda-runtime" / "bin" / "python"
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "handler.py").write_text(HANDLER)
        env = {"PATH": "/usr/bin:/bin", "_HANDLER": "handler.handler", "AWS_LAMBDA_FUNCTION_NAME": "bench",
               "AWS_LAMBDA_FUNCTION_TIMEOUT": "10", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
               "LAMBDA_TASK_ROOT": folder, "PYTHONPATH": folder}
        environment = pool.ProcessEnvironment([str(python), str(package / "runtime.py")], env, folder)
        try:
            environment.wait_ready()

            def invoke(i: int) -> None:
                answer = environment.invoke({"invoke-id": str(uuid.uuid4()), "invoked-function-arn": "arn",
                                             "payload": json.dumps({"n": i})}, wait_s=10)
                assert answer["type"] == "result", answer

            _timed(invoke, 20)
            return _timed(invoke, samples)
        finally:
            environment.stop()


def run() -> list[tuple[str, ...]]:
    lam = aws_client("lambda")
    name = f"photostack-bench-{uuid.uuid4().hex[:8]}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", HANDLER)
    lam.create_function(FunctionName=name, Runtime="python3.13", Handler="handler.handler",
                        Role="arn:aws:iam::000000000000:role/bench", Code={"ZipFile": buffer.getvalue()},
                        Timeout=10, MemorySize=128)
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    rows: list[tuple[str, ...]] = []
    warm: list[float] = []
    try:
        def invoke(i: int) -> None:
            result = lam.invoke(FunctionName=name, Payload=json.dumps({"n": i}))
            assert "FunctionError" not in result, result["Payload"].read()

        invoke(0)  # the first environment
        warm = _timed(invoke, WARM_INVOKES)
        rows.append(("lambda warm invoke via executor (boto3 → LocalStack → process)", summary_ms(warm)))

        cold: list[float] = []
        for i in range(COLD_STARTS):
            # A configuration change is a new function version: LocalStack starts a new environment.
            lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GEN": str(i)}})
            lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2})
            started = time.perf_counter()
            invoke(i)
            cold.append(time.perf_counter() - started)
        rows.append(("lambda cold start via executor (new environment + first invoke; target p50 <= 200 ms)",
                     summary_ms(cold)))
    finally:
        lam.delete_function(FunctionName=name)

    namespace: dict[str, Any] = {}
    exec(compile(HANDLER, "handler.py", "exec"), namespace)  # our own constant
    direct = namespace["handler"]
    in_process = _timed(lambda i: direct({"n": i}, None), WARM_INVOKES)
    rows.append(("reference: same handler called in-process", summary_ms(in_process)))
    environment = _in_environment(WARM_INVOKES)
    overhead_ms = (percentile(warm, 50) - percentile(in_process, 50)) * 1000
    rows.append(("lambda warm invoke overhead: p50 via executor - p50 in-process (target <= 10 ms)",
                 f"{overhead_ms:.1f} ms",
                 f"of which in the function environment (executor pipe -> runtime.py -> handler -> answer, "
                 f"no LocalStack): p50 {percentile(environment, 50) * 1000:.2f} ms"))

    outputs = json.loads((ROOT / ".state" / "stack-outputs.json").read_text())
    session = requests.Session()
    url = f"{outputs['ProbeApiUrl']}/probe/ok"
    session.get(url, timeout=30)
    rows.append(("API Gateway round trip (GET /probe/ok, keep-alive)",
                 summary_ms(_timed(lambda i: session.get(url, timeout=30).raise_for_status(), WARM_INVOKES))))

    started = time.perf_counter()
    subprocess.run(["bash", str(ROOT / "infra" / "up.sh")], check=True, capture_output=True)
    rows.append(("make up, everything already up (warm)", f"{time.perf_counter() - started:.1f} s"))
    return rows


if __name__ == "__main__":
    for metric, value in run():
        print(f"{metric:<70} {value}")
