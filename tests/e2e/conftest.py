"""What the stack logged while a failed end-to-end test ran, in that test's report.

CI keeps only the test output. A request that failed inside the emulated platform (API Gateway's
502 for a function that timed out, crashed or was throttled) says nothing more in its body, so
a failed test's report carries LocalStack's warnings and errors logged during the test (the
executor logs every runtime-level failure there: executor.py) and the functions' error lines
from CloudWatch Logs over the same minutes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import aws_client

ROOT = Path(__file__).resolve().parents[2]
LOCALSTACK_LOG = ROOT / ".state" / "log" / "localstack.log"
KEPT_LINES = 60  # the last lines of each kind: enough for the failure and what led to it
LINE_CHARS = 400
LOG_SHIPPING_S = 1.0  # the executor ships function logs to CloudWatch every 0.25 s (lambda_logs.py)
LOCALSTACK_LINE = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+\s+(\w+)\s+---")
FUNCTION_ERROR = re.compile(r"Task timed out|Runtime\.|Traceback|\[ERROR\]|\"level\":\s*\"ERROR\"|Error:")
MARK = pytest.StashKey[tuple[int, float]]()


@pytest.fixture(autouse=True)
def _remember_where_the_logs_were(request: pytest.FixtureRequest) -> None:
    request.node.stash[MARK] = (_log_size(), time.time())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report: Any = yield
    if report.when == "call" and report.failed and MARK in item.stash:
        offset, started = item.stash[MARK]
        report.sections += [
            ("LocalStack's warnings and errors during the test", localstack_lines(offset)),
            ("function errors in CloudWatch Logs during the test", function_errors(started)),
        ]
    return report


def _log_size() -> int:
    try:
        return LOCALSTACK_LOG.stat().st_size
    except OSError:
        return 0


def localstack_lines(offset: int) -> str:
    """LocalStack's WARN and ERROR lines written since ``offset`` (from the start if LocalStack was
    restarted meanwhile: its log begins again), with the traceback lines that follow an error."""
    try:
        with LOCALSTACK_LOG.open("rb") as log:
            if _log_size() >= offset:
                log.seek(offset)
            text = log.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"(LocalStack's log unreadable: {exc})"
    kept: list[str] = []
    keeping = False
    for line in text.splitlines():
        level = LOCALSTACK_LINE.match(line)
        if level:
            keeping = level.group(1) in ("WARN", "WARNING", "ERROR")
        if keeping:
            kept.append(line[:LINE_CHARS])
    return "\n".join(kept[-KEPT_LINES:]) or "(none)"


def function_errors(since: float) -> str:
    """Error lines the functions logged since ``since`` (seconds since the epoch), by log group."""
    from botocore.config import Config

    time.sleep(LOG_SHIPPING_S)
    try:
        logs = aws_client("logs", Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}))
        kept: list[str] = []
        groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]
        for group in groups:
            name = group["logGroupName"]
            pages = logs.get_paginator("filter_log_events").paginate(
                logGroupName=name, startTime=int(since * 1000) - 1000)
            for page in pages:
                kept += [f"{name}: {event['message'].rstrip()[:LINE_CHARS]}" for event in page["events"]
                         if FUNCTION_ERROR.search(event["message"])]
    except Exception as exc:  # LocalStack down is itself what the report should say
        return f"(CloudWatch Logs unavailable: {type(exc).__name__}: {exc})"
    return "\n".join(kept[-KEPT_LINES:]) or "(none)"
