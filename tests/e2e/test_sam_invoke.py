"""Every sample event in events/ gives the same answer through `photostack-sam local invoke`
(no Docker, no LocalStack in the invoke path) as through LocalStack's Lambda (boto3 invoke of
the deployed function), and what each costs, cold and warm."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from infra.sam import local_invoke
from tests.conftest import aws_client

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EVENTS = sorted((ROOT / "events").glob("*.json"))
FUNCTION_OF_PREFIX = {"users": "UsersFunction", "photos": "PhotosFunction",
                      "transactions": "TransactionsFunction", "probe": "ProbeFunction",
                      "upload": "UploadFunction"}
DEPLOYED_NAME = {"UsersFunction": "photostack-users", "PhotosFunction": "photostack-photos",
                 "TransactionsFunction": "photostack-transactions", "ProbeFunction": "photostack-probe",
                 "UploadFunction": "photostack-upload"}
VOLATILE = {"id", "created_at", "email"}  # differ between two registrations by design


@pytest.fixture(scope="module")
def lam() -> Any:
    return aws_client("lambda")


def function_of(event: Path) -> str:
    return FUNCTION_OF_PREFIX[event.stem.split("-", 1)[0]]


def event_body(event: Path) -> dict[str, Any]:
    """The sample event; a registration gets an address of its own each time (the sample's
    address would be taken by the first of the two paths)."""
    data: dict[str, Any] = json.loads(event.read_text())
    if event.name == "users-register.json":
        body = json.loads(data["body"])
        body["email"] = f"sam-{uuid.uuid4().hex[:12]}@example.com"
        data["body"] = json.dumps(body)
    return data


def comparable(payload: dict[str, Any]) -> dict[str, Any]:
    if "statusCode" not in payload:
        return payload
    body = json.loads(payload["body"]) if payload.get("body") else None
    if isinstance(body, dict):
        body = {k: ("<volatile>" if k in VOLATILE else v) for k, v in body.items()}
    return {"statusCode": payload["statusCode"], "headers": payload.get("headers"), "body": body}


def through_sam(event: dict[str, Any], function: str) -> tuple[int, dict[str, Any], str, float]:
    started = time.monotonic()
    command = [sys.executable, str(ROOT / "infra/sam/local_invoke.py"), "local", "invoke", function,
               "-e", "-"]
    run = subprocess.run(command, input=json.dumps(event), capture_output=True, text=True, timeout=120,
                         cwd=ROOT)
    return run.returncode, json.loads(run.stdout), run.stderr, time.monotonic() - started


def through_localstack(lam: Any, event: dict[str, Any], function: str) -> tuple[bool, dict[str, Any], float]:
    started = time.monotonic()
    response = lam.invoke(FunctionName=DEPLOYED_NAME[function], Payload=json.dumps(event).encode())
    payload = json.loads(response["Payload"].read())
    return "FunctionError" in response, payload, time.monotonic() - started


def test_every_sample_event_names_a_function_of_the_template() -> None:
    assert EVENTS, "no sample events"
    assert {function_of(event) for event in EVENTS} <= set(DEPLOYED_NAME)


@pytest.mark.parametrize("event", EVENTS, ids=[e.stem for e in EVENTS])
def test_a_sample_event_answers_the_same_without_docker_as_through_localstack(event: Path, lam: Any) -> None:
    function = function_of(event)
    code, local, logs, _ = through_sam(event_body(event), function)
    failed, deployed, _ = through_localstack(lam, event_body(event), function)
    assert (code != 0) == failed, (local, deployed, logs)
    assert code == 0, logs
    assert "REPORT RequestId" in logs
    assert "cannot reach" not in logs and "left unset" not in logs, logs  # the stack is up: all resolved
    assert comparable(local) == comparable(deployed)


def test_cold_and_warm_invoke_times_against_localstack(lam: Any) -> None:
    """Figures for the README (printed with -s); the bounds only catch a broken path."""
    event = json.loads((ROOT / "events/users-health.json").read_text())
    cold_wall = [through_sam(event, "UsersFunction")[3] for _ in range(3)]
    prepared = local_invoke.prepare(ROOT / "template.yaml", "UsersFunction", {}, {})
    environment = local_invoke.LocalEnvironment(prepared.spec, prepared.code_dir, prepared.layer_paths,
                                                prepared.env)
    try:
        ready_ms = environment.start()
        warm = []
        for _ in range(10):
            started = time.monotonic()
            outcome = environment.invoke(json.dumps(event).encode())
            warm.append(time.monotonic() - started)
            assert outcome.ok, outcome.logs
    finally:
        environment.stop()
    through_localstack(lam, event, "UsersFunction")  # an environment is warm now, if none was
    localstack_warm = [through_localstack(lam, event, "UsersFunction")[2] for _ in range(10)]
    print(f"\nphotostack-sam local invoke UsersFunction (whole command, cold): "
          f"median {statistics.median(cold_wall) * 1000:.0f} ms of {[round(t * 1000) for t in cold_wall]}"
          f"\n  environment start to ready (runtime + handler import): {ready_ms:.0f} ms"
          f"\n  warm invoke in that environment: median {statistics.median(warm) * 1000:.1f} ms"
          f"\nLocalStack boto3 invoke photostack-users, warm: "
          f"median {statistics.median(localstack_warm) * 1000:.1f} ms")
    assert statistics.median(warm) < 1.0 and statistics.median(localstack_warm) < 2.0
