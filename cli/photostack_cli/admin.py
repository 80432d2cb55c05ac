"""Operator commands that talk to the deployment itself, not to the public APIs.

``photostack admin redrive`` runs the reconcile function now (it also runs on a schedule):
the upload dead-letter queue and originals that never became ready are processed again.
It invokes the function through the Lambda API of the stack's endpoint (LocalStack here;
on AWS, the credentials and region of the environment).
"""

from __future__ import annotations

import datetime as dt
import json
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
