"""One request's path and the functions' metrics, through the deployed stack.

An API answer carries X-Request-Id; `make logs REQUEST=<id>` (infra/trace.py) finds that id in
the function's CloudWatch Logs and in the photo sidecar's log. The functions' EMF lines become
metrics in LocalStack's CloudWatch.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests

from infra import trace
from tests.conftest import aws_client
from tests.e2e.journey_support import TIMEOUT, Apis, person

pytestmark = pytest.mark.e2e


def wait_for[T](probe: Callable[[], T | None], timeout_s: float = 20.0) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, "not seen in time"
        time.sleep(0.5)


def test_a_request_is_traced_from_the_function_to_the_sidecar(stack: dict[str, str]) -> None:
    apis = Apis.of(stack)
    photographer = person(apis, "photographer")
    answer = requests.get(f"{apis.photos}/events", params={"mine": "true"}, headers=photographer.headers,
                          timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    request_id = answer.headers.get("X-Request-Id")
    assert request_id, dict(answer.headers)

    def lines() -> list[trace.Line] | None:
        found = [*trace.function_lines(request_id, since_s=600), *trace.sidecar_lines(request_id)]
        sources = {x.source for x in found}
        return found if "photostack-photos" in sources and any(s.startswith("sidecar") for s in sources) \
            else None

    path = wait_for(lines)
    assert all(request_id in x.text for x in path)
    assert any('"rpc"' in x.text and "ListEvents" in x.text for x in path), [x.text for x in path]


def test_function_metrics_reach_cloudwatch(stack: dict[str, str]) -> None:
    apis = Apis.of(stack)
    assert requests.get(f"{apis.users}/health", timeout=TIMEOUT).status_code == 200
    cloudwatch = aws_client("cloudwatch")

    def listed() -> list[dict[str, object]] | None:
        found = cloudwatch.list_metrics(Namespace="photostack", MetricName="Requests")["Metrics"]
        return [m for m in found if {"Name": "function", "Value": "photostack-users"} in m["Dimensions"]] \
            or None

    metrics = wait_for(listed)
    assert any({"Name": "route", "Value": "/health"} in m["Dimensions"] for m in metrics), metrics  # type: ignore[operator]
