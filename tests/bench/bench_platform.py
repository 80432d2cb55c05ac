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

from tests.bench.stats import summary_ms
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


def run() -> list[tuple[str, str]]:
    lam = aws_client("lambda")
    name = f"photostack-bench-{uuid.uuid4().hex[:8]}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", HANDLER)
    lam.create_function(FunctionName=name, Runtime="python3.13", Handler="handler.handler",
                        Role="arn:aws:iam::000000000000:role/bench", Code={"ZipFile": buffer.getvalue()},
                        Timeout=10, MemorySize=128)
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    rows: list[tuple[str, str]] = []
    try:
        def invoke(i: int) -> None:
            result = lam.invoke(FunctionName=name, Payload=json.dumps({"n": i}))
            assert "FunctionError" not in result, result["Payload"].read()

        invoke(0)  # the first environment
        rows.append(("lambda warm invoke via executor (boto3 → LocalStack → process)",
                     summary_ms(_timed(invoke, WARM_INVOKES))))

        cold: list[float] = []
        for i in range(COLD_STARTS):
            # A configuration change is a new function version: LocalStack starts a new environment.
            lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GEN": str(i)}})
            lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2})
            started = time.perf_counter()
            invoke(i)
            cold.append(time.perf_counter() - started)
        rows.append(("lambda cold start via executor (new environment + first invoke)", summary_ms(cold)))
    finally:
        lam.delete_function(FunctionName=name)

    namespace: dict[str, Any] = {}
    exec(compile(HANDLER, "handler.py", "exec"), namespace)  # our own constant
    direct = namespace["handler"]
    rows.append(("reference: same handler called in-process",
                 summary_ms(_timed(lambda i: direct({"n": i}, None), WARM_INVOKES))))

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
