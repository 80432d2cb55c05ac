"""Another LocalStack on this machine leaves the shared stack's CloudWatch metrics alone.

LocalStack takes this machine for a container, so a stock one's temp folder is the machine's
``/tmp/localstack``, which it empties when it starts and stops, and CloudWatch keeps its metrics
store (SQLite) in it. The shared stack's LocalStack used that folder too: the durable-state test's
LocalStack, started during a full run, deleted the store under it, and every ``PutMetricData``
after that (the functions' EMF metrics, Lambda's own) failed with "unable to open database file"
until LocalStack was restarted. ``infra/services.sh`` now gives it a temp folder of its own.

This starts a LocalStack the way a stock one runs (SQS only, a free port, the machine's temp
folder) and checks that the shared stack still stores and lists metrics afterwards.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import aws_client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[3]
LS_PYTHON = ROOT / ".state" / "localstack-venv" / "bin" / "python"
# What a stock LocalStack needs of the environment, and nothing of the caller's (no TMPDIR).
KEPT_ENV = ("PATH", "HOME", "LANG", "LC_ALL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def put_and_list(cloudwatch: Any, namespace: str, name: str) -> set[str]:
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": name, "Value": 1.0}])
    return {m["MetricName"] for m in cloudwatch.list_metrics(Namespace=namespace)["Metrics"]}


def run_another_localstack(tmp: Path) -> None:
    """Start a stock-configured LocalStack until its SQS is up, then ``kill -9`` it."""
    port = free_port()
    env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
    env.update({"GATEWAY_LISTEN": f"127.0.0.1:{port}", "SERVICES": "sqs", "EAGER_SERVICE_LOADING": "1",
                "LOCALSTACK_VOLUME_DIR": str(tmp / "volume"), "DNS_ADDRESS": "0",
                "SKIP_SSL_CERT_DOWNLOAD": "1", "DISABLE_EVENTS": "1", "LOCALSTACK_TELEMETRY": "0"})
    log_path = tmp / "localstack.log"

    def log_tail() -> str:
        return log_path.read_text(errors="replace")[-3000:]

    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(LS_PYTHON), "-m", "localstack.runtime.main"], env=env, cwd=tmp,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"LocalStack exited:\n{log_tail()}"
            with contextlib.suppress(requests.RequestException):
                health = requests.get(f"http://127.0.0.1:{port}/_localstack/health", timeout=2).json()
                if health["services"].get("sqs") == "running":
                    return
            assert time.monotonic() < deadline, f"LocalStack not ready in 120 s:\n{log_tail()}"
            time.sleep(0.5)
    finally:
        process.kill()
        process.wait(timeout=30)


def test_another_localstack_starting_leaves_the_shared_stacks_metrics_alone(tmp_path: Path) -> None:
    if not LS_PYTHON.exists():
        pytest.fail("LocalStack's virtualenv is missing: run `make setup`")
    cloudwatch = aws_client("cloudwatch")
    namespace = f"photostack-test-{uuid.uuid4().hex[:12]}"
    assert put_and_list(cloudwatch, namespace, "before") == {"before"}

    run_another_localstack(tmp_path)

    assert put_and_list(cloudwatch, namespace, "after") == {"before", "after"}
