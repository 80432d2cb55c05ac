"""How the chaos suite counts what happened: which failures are clear, and the per-fault table."""

from __future__ import annotations

import json

import pytest
import requests

from tests.chaos.load import ACK, CLEAR, HUNG, UNCLEAR, Failed, Op, checked
from tests.chaos.test_chaos import Phase, error_summary, table

pytestmark = pytest.mark.unit


def response(status: int, body: bytes, content_type: str = "application/json") -> requests.Response:
    r = requests.Response()
    r.status_code, r._content = status, body
    r.headers["Content-Type"] = content_type
    return r


def outcome_of(r: requests.Response) -> str:
    try:
        checked(r, 201, "step")
    except Failed as failed:
        return failed.outcome
    return ACK


def test_our_error_envelope_and_s3_error_codes_are_clear_a_bare_5xx_is_not() -> None:
    envelope = json.dumps({"error": {"code": "catalog_unavailable", "message": "try again"}}).encode()
    assert outcome_of(response(201, b"{}")) == ACK
    assert outcome_of(response(503, envelope)) == CLEAR
    s3_error = b"<Error><Code>ServiceUnavailable</Code></Error>"
    assert outcome_of(response(503, s3_error, "application/xml")) == CLEAR
    assert outcome_of(response(502, b'{"message": "Internal server error"}')) == UNCLEAR
    assert outcome_of(response(500, b"Traceback (most recent call last)", "text/plain")) == UNCLEAR


def test_the_table_counts_each_operation_in_the_phase_it_started_in() -> None:
    phases = [Phase("calm", start=0, end=10, recover_s=None),
              Phase("redis", start=10, back=14, end=20, recover_s=1.5)]
    ops = [Op("upload", 1, 2, ACK, ref="p1"), Op("order", 9, 11, ACK, ref="o1"),
           Op("upload", 11, 12, CLEAR, "reserve 503"), Op("order", 12, 13, HUNG),
           Op("upload", 15, 16, ACK, ref="p2")]
    rows = table(phases, ops, lost_refs={"p2"}).splitlines()
    assert rows[2] == "| calm | 2 (1 + 1) | 2 | 0 | 0 | 0 | - |"
    assert rows[3] == "| redis | 3 (2 + 1) | 1 | 1 | 1 | 1 | 1.5 s |"


def test_failures_by_kind_are_reported_under_the_phase_they_started_in() -> None:
    phases = [Phase("calm", start=0, end=10), Phase("consul", start=10, back=14, end=20),
              Phase("redis", start=20, back=24)]  # the last phase has no end yet
    ops = [Op("upload", 1, 2, ACK),
           Op("order", 11, 12, CLEAR, "order 503 'catalog_unavailable' (request r1)"),
           Op("order", 12, 13, CLEAR, "order 503 'catalog_unavailable' (request r2)"),
           Op("upload", 13, 14, UNCLEAR, "reserve 502 '{}' (request r3)"),
           Op("order", 9, 10.5, CLEAR, "order 503 'database_unavailable' (request r4)"),
           Op("upload", 25, 26, HUNG, "no answer within 45 s: ReadTimeout")]
    assert error_summary(phases, ops).splitlines() == [
        "  calm:",
        "    1 x order clear error: order 503 'database_unavailable'",
        "  consul:",
        "    2 x order clear error: order 503 'catalog_unavailable'",
        "    1 x upload unclear error: reserve 502 '{}'",
        "  redis:",
        "    1 x upload hung: no answer within 45 s: ReadTimeout",
    ]
    assert error_summary(phases, [Op("upload", 1, 2, ACK)]) == ""
