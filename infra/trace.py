"""``make logs REQUEST=<id>``: one request's path across the functions and the photo sidecar.

Every API answer carries ``X-Request-Id``; the functions log it on each JSON line, send it to
the sidecar as gRPC metadata (``x-request-id``), and the sidecar logs it too. This collects
the lines that carry the id from the functions' CloudWatch Logs (LocalStack) and from the
sidecar logs under ``.state/log/``, and prints them in time order, one line per event.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / ".state" / "log"
GROUP_PREFIX = "/aws/lambda/photostack-"


@dataclass(frozen=True, order=True)
class Line:
    ts: float
    source: str
    text: str


def _logs_client() -> Any:
    endpoint = os.environ.get("PHOTOSTACK_AWS_ENDPOINT", "http://127.0.0.1:4566")
    return boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def _timestamp(text: str, fallback: float) -> float:
    try:
        return float(json.loads(text).get("ts", fallback))
    except (ValueError, AttributeError, TypeError):
        return fallback


def function_lines(request_id: str, since_s: float) -> Iterator[Line]:
    client = _logs_client()
    start_ms = int((time.time() - since_s) * 1000)
    groups = client.describe_log_groups(logGroupNamePrefix=GROUP_PREFIX).get("logGroups", [])
    for group in groups:
        name = group["logGroupName"]
        kwargs: dict[str, Any] = {"logGroupName": name, "startTime": start_ms}
        while True:
            page = client.filter_log_events(**kwargs)
            for event in page.get("events", []):
                message = event["message"].rstrip()
                if request_id in message:
                    yield Line(_timestamp(message, event["timestamp"] / 1000), name.removeprefix(
                        "/aws/lambda/"), message)
            token = page.get("nextToken")
            if not token or token == kwargs.get("nextToken"):
                break
            kwargs["nextToken"] = token


def sidecar_lines(request_id: str) -> Iterator[Line]:
    for path in sorted(LOG_DIR.glob("sidecar*.log")):
        with path.open(errors="replace") as f:
            for raw in f:
                if request_id in raw:
                    text = raw.rstrip()
                    yield Line(_timestamp(text, path.stat().st_mtime), path.stem, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make logs REQUEST=<id>", description=__doc__.splitlines()[0])
    parser.add_argument("request_id", help="the X-Request-Id an API answered with")
    parser.add_argument("--since", type=float, default=3600.0, help="how far back to look, in seconds")
    args = parser.parse_args(argv)
    lines = sorted([*function_lines(args.request_id, args.since), *sidecar_lines(args.request_id)])
    if not lines:
        print(f"no log line carries request id {args.request_id!r} in the last {args.since:.0f} s",
              file=sys.stderr)
        return 1
    width = max(len(x.source) for x in lines)
    for x in lines:
        stamp = time.strftime("%H:%M:%S", time.localtime(x.ts)) + f".{int(x.ts * 1000) % 1000:03d}"
        print(f"{stamp}  {x.source:<{width}}  {x.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
