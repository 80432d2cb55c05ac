"""The platform's proofs, against the real LocalStack and the deployed stack.

Lambda runs without Docker through our process executor: API Gateway → Lambda proxy,
S3 notification → Lambda, layers, timeouts, memory size, errors, logs in CloudWatch,
several environments at once.
"""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.conftest import aws_client

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lam() -> Any:
    return aws_client("lambda")


def probe(stack: dict[str, str], action: str, timeout: float = 30) -> requests.Response:
    return requests.get(f"{stack['ProbeApiUrl']}/probe/{action}", timeout=timeout)


@pytest.mark.parametrize("api", ["UsersApiUrl", "PhotosApiUrl", "TransactionsApiUrl"])
def test_every_api_function_answers_its_health_route(stack: dict[str, str], api: str) -> None:
    response = requests.get(f"{stack[api]}/health", timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


def test_api_gateway_invokes_a_function_with_the_lambda_environment(stack: dict[str, str]) -> None:
    response = probe(stack, "env")
    assert response.status_code == 200
    body = response.json()
    assert body["AWS_LAMBDA_FUNCTION_NAME"] == "photostack-probe"
    assert body["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert body["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "2"
    assert body["PHOTOSTACK_ENV"] == "local"
    assert 0 < body["remaining_ms"] <= 2000


def test_a_function_imports_from_the_layer(stack: dict[str, str]) -> None:
    response = probe(stack, "layer")
    assert response.status_code == 200
    assert response.json()["algorithm"] == "HS256"
    assert "/python/photostack/config.py" in response.json()["layer"]


def test_a_raising_handler_is_a_function_error_and_a_5xx_json(stack: dict[str, str], lam: Any) -> None:
    response = probe(stack, "raise")
    assert response.status_code >= 500
    assert isinstance(response.json(), dict)
    direct = lam.invoke(FunctionName="photostack-probe",
                        Payload=json.dumps({"pathParameters": {"action": "raise"}}))
    assert direct["FunctionError"] == "Unhandled"
    error = json.loads(direct["Payload"].read())
    assert error["errorType"] == "RuntimeError"
    assert "raised on purpose" in error["errorMessage"]


def test_a_handler_past_its_timeout_is_cut_off_and_the_next_call_works(stack: dict[str, str],
                                                                         lam: Any) -> None:
    started = time.monotonic()
    direct = lam.invoke(FunctionName="photostack-probe",
                        Payload=json.dumps({"pathParameters": {"action": "sleep"}}))
    elapsed = time.monotonic() - started
    assert direct["FunctionError"] == "Unhandled"
    assert "Task timed out after 2.00 seconds" in json.loads(direct["Payload"].read())["errorMessage"]
    assert elapsed < 6, f"the 2 s timeout took {elapsed:.1f} s to cut in"  # the handler sleeps 7 s
    assert probe(stack, "sleep").status_code >= 500
    assert probe(stack, "ok").json() == {"ok": True, "function": "photostack-probe"}


def test_logs_reach_cloudwatch(stack: dict[str, str], lam: Any) -> None:
    marker = uuid.uuid4().hex
    lam.invoke(FunctionName="photostack-probe", Payload=json.dumps({"pathParameters": {"action": marker}}))
    logs = aws_client("logs")
    deadline = time.monotonic() + 20
    messages: list[str] = []
    while time.monotonic() < deadline:
        events = logs.filter_log_events(logGroupName="/aws/lambda/photostack-probe")["events"]
        messages = [e["message"] for e in events]
        if any("REPORT RequestId" in m for m in messages):
            break
        time.sleep(0.5)
    assert any(m.startswith("START RequestId") for m in messages)
    assert any("REPORT RequestId" in m and "Max Memory Used" in m for m in messages)


# --- functions created on the fly, to probe the executor's limits --------------------
HANDLER = '''
import os, time
def handler(event, context):
    if event.get("allocate_mb"):
        blob = bytearray(event["allocate_mb"] * 1024 * 1024)
        for i in range(0, len(blob), 4096):
            blob[i] = 1
        time.sleep(0.5)
    time.sleep(event.get("sleep", 0))
    print("invoked", event)
    return {"pid": os.getpid(), "log_stream": context.log_stream_name, "request_id": context.aws_request_id}
'''


@pytest.fixture(scope="module")
def scratch_function(lam: Any) -> Iterator[str]:
    name = f"photostack-scratch-{uuid.uuid4().hex[:8]}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", HANDLER)
    lam.create_function(FunctionName=name, Runtime="python3.13", Handler="handler.handler",
                        Role="arn:aws:iam::000000000000:role/scratch", Code={"ZipFile": buffer.getvalue()},
                        Timeout=10, MemorySize=128)
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    yield name
    lam.delete_function(FunctionName=name)


def test_memory_size_is_enforced_and_the_environment_recovers(lam: Any, scratch_function: str) -> None:
    over = lam.invoke(FunctionName=scratch_function, Payload=json.dumps({"allocate_mb": 300}))
    assert over["FunctionError"] == "Unhandled"
    assert json.loads(over["Payload"].read())["errorType"] == "Runtime.OutOfMemory"
    under = lam.invoke(FunctionName=scratch_function, Payload=json.dumps({"allocate_mb": 20}))
    assert "FunctionError" not in under
    assert "pid" in json.loads(under["Payload"].read())


def test_warm_environments_are_reused_and_scaled_out_under_concurrency(lam: Any,
                                                                       scratch_function: str) -> None:
    def call(payload: dict[str, Any]) -> int:
        result = lam.invoke(FunctionName=scratch_function, Payload=json.dumps(payload))
        return int(json.loads(result["Payload"].read())["pid"])

    first, second = call({}), call({})
    assert first == second  # warm: the same worker process served both
    bound = _environment_bound()
    with ThreadPoolExecutor(bound + 1) as pool:
        pids = list(pool.map(call, [{"sleep": 1.5}] * (bound + 1)))
    # One environment per concurrent invocation up to the local bound; the one past it waited in
    # line for a free environment (and succeeded) instead of starting another process.
    assert len(set(pids)) == bound


def _environment_bound() -> int:
    """The executor's local concurrency bound, as LocalStack computes it on this machine."""
    import importlib.util
    from pathlib import Path

    path = (Path(__file__).resolve().parents[2] / "infra" / "localstack" / "executor"
            / "photostack_localstack_executor" / "pool.py")
    spec = importlib.util.spec_from_file_location("executor_pool_policy", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return int(module.max_environments())


def test_each_environment_logs_to_its_own_stream_the_one_its_function_is_told(
        lam: Any, scratch_function: str) -> None:
    # More concurrent invocations than environments: LocalStack makes a handle per invocation, the
    # executor runs them on its few processes; each invocation's lines belong in the stream of the
    # process that ran it (AWS_LAMBDA_LOG_STREAM_NAME), one stream per environment, as on AWS.
    def call(_: int) -> dict[str, Any]:
        result = lam.invoke(FunctionName=scratch_function, Payload=json.dumps({"sleep": 0.5}))
        return dict(json.loads(result["Payload"].read()))

    bound = _environment_bound()
    with ThreadPoolExecutor(bound * 3) as pool:
        answers = list(pool.map(call, range(bound * 3)))
    told = {a["request_id"]: a["log_stream"] for a in answers}
    assert len(set(told.values())) == len({a["pid"] for a in answers}) <= bound
    logs = aws_client("logs")
    deadline = time.monotonic() + 30
    found: dict[str, str] = {}
    while time.monotonic() < deadline and set(found) != set(told):
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{scratch_function}",
                                        filterPattern="REPORT")["events"]
        found = {rid: e["logStreamName"] for e in events for rid in told
                 if f"RequestId: {rid}" in e["message"]}
        time.sleep(0.5)
    assert found == told


def test_tail_logs_carry_the_handlers_output(lam: Any, scratch_function: str) -> None:
    result = lam.invoke(FunctionName=scratch_function, Payload=json.dumps({"hello": 1}), LogType="Tail")
    tail = base64.b64decode(result["LogResult"]).decode()
    assert "invoked {'hello': 1}" in tail
    assert "END RequestId" in tail


def test_an_object_put_in_the_uploads_bucket_invokes_the_upload_function(stack: dict[str, str]) -> None:
    # A key outside originals/<event>/<photo> is ignored by the function, with a log line that
    # names it: the observable effect of LocalStack's real S3 notification reaching our executor.
    key = f"originals/platform-probe-{uuid.uuid4().hex}.txt"
    since_ms = int(time.time() * 1000) - 5000
    aws_client("s3").put_object(Bucket=stack["UploadsBucketName"], Key=key, Body=b"not a photo")
    logs = aws_client("logs")
    deadline = time.monotonic() + 30
    mentions: list[str] = []
    while time.monotonic() < deadline:
        try:
            events = logs.filter_log_events(logGroupName="/aws/lambda/photostack-upload",
                                            startTime=since_ms)["events"]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        mentions = [e["message"] for e in events if key in e["message"]]
        if mentions:
            break
        time.sleep(0.5)
    assert mentions, f"the upload function never logged {key}"
    assert "ignored object" in mentions[0]
