"""How the chaos suite counts what happened: which failures are clear, and the per-fault table."""

from __future__ import annotations

import http.client
import json

import pytest
import requests
import urllib3

from tests.chaos.load import ACK, CLEAR, HUNG, UNCLEAR, Failed, Op, checked, connection_outcome
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


def aborted(reason: Exception) -> requests.ConnectionError:
    """What requests raises when the connection broke mid-request (as urllib3 wraps it)."""
    return requests.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.", reason))


def test_a_server_that_is_down_or_died_mid_request_is_clear_other_connection_errors_are_not() -> None:
    refused = requests.ConnectionError("HTTPConnectionPool(host='127.0.0.1', port=4566): Max retries exceeded"
                                       " (Caused by NewConnectionError([Errno 111] Connection refused))")
    assert connection_outcome(refused) == CLEAR
    # kill -9 of the process serving the request: a reset, or a close before any answer.
    assert connection_outcome(aborted(ConnectionResetError(104, "Connection reset by peer"))) == CLEAR
    closed = aborted(http.client.RemoteDisconnected("Remote end closed connection without response"))
    assert connection_outcome(closed) == CLEAR
    assert connection_outcome(aborted(http.client.BadStatusLine("HTTP/1.1 2"))) == UNCLEAR
    assert connection_outcome(requests.ConnectionError("Failed to resolve 'api.example'")) == UNCLEAR


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
