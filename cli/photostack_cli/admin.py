"""Operator commands that talk to the deployment itself, not to the public APIs.

``photostack admin redrive`` runs the reconcile function now (it also runs on a schedule):
the upload dead-letter queue and originals that never became ready are processed again.
It invokes the function through the Lambda API of the stack's endpoint (LocalStack here;
on AWS, the credentials and region of the environment).

``photostack admin check-storage`` runs the storage check of the repository this CLI is installed
from (``infra/storage_check.py``, what ``make up`` runs): every ``ready`` photo whose derivatives
are gone from S3 is rebuilt from its original by the reconcile function, and one whose original
is gone is marked ``failed`` with a reason. It reads PostgreSQL directly, as an operator.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from photostack_cli.config import LOCALSTACK_ENDPOINT, ConfigError, stack_outputs

RECONCILE_FUNCTION = "photostack-reconcile"


def scheduled_event(detail: dict[str, Any]) -> dict[str, Any]:
    """The EventBridge "Scheduled Event" shape the reconcile handler receives, with our detail."""
    return {"version": "0", "id": "photostack-cli", "detail-type": "Scheduled Event",
            "source": "photostack.cli", "account": "000000000000",
            "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us-east-1",
            "resources": [], "detail": detail}


def redrive(*, min_age_s: float, limit: int) -> dict[str, Any]:
    import boto3  # only the operator commands need it
    import botocore.exceptions
    from botocore.config import Config

    outputs = stack_outputs()
    endpoint = str(outputs.get("Endpoint") or LOCALSTACK_ENDPOINT)
    client = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test",  # noqa: S106
                          config=Config(read_timeout=330, retries={"max_attempts": 0}))
    payload = json.dumps(scheduled_event({"min_age_s": min_age_s, "limit": limit}))
    try:
        reply = client.invoke(FunctionName=RECONCILE_FUNCTION, Payload=payload.encode())
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise ConfigError(f"cannot invoke {RECONCILE_FUNCTION} at {endpoint} ({exc})") from exc
    body = json.loads(reply["Payload"].read() or b"null")
    if reply.get("FunctionError"):
        message = body.get("errorMessage") if isinstance(body, dict) else body
        raise ConfigError(f"{RECONCILE_FUNCTION} failed: {message}")
    return body if isinstance(body, dict) else {"result": body}


def check_storage(*, dry_run: bool, event_id: str | None = None) -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
    if not (root / "infra" / "storage_check.py").is_file():
        raise ConfigError("check-storage runs from a photostack repository checkout (infra/storage_check.py)")
    command = [sys.executable, "-m", "infra.storage_check", "--json", *(["--dry-run"] if dry_run else []),
               *(["--event", event_id] if event_id else [])]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)  # noqa: S603 (fixed argv)
    if done.returncode != 0:
        raise ConfigError((done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1])
    report: dict[str, Any] = json.loads(done.stdout)
    return report
