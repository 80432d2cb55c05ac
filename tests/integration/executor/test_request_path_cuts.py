"""Two cuts of LocalStack's per-request CPU (request_path.py), run against LocalStack's own code.

Each check runs in LocalStack's virtualenv (``.state/localstack-venv``, where the plugin is
installed) with this checkout's plugin package first on the path, without starting a server:
- lambda_logs.put_direct stores a batch in LocalStack's CloudWatch Logs store (moto's backend with
  LocalStack's patches), and declines, storing nothing, wherever LocalStack's Logs provider would
  do more than store it (a missing group or stream, metric filters in the region);
- quiet_logs.drop_twisted_access_log stops rolo's twisted server formatting an access-log line.
"""

from __future__ import annotations

import pytest

from tests.integration.executor.localstack_venv import in_localstack

pytestmark = pytest.mark.integration


def test_log_batches_go_into_localstacks_store_unless_the_provider_would_do_more() -> None:
    result = in_localstack("""
        import json, time
        from photostack_localstack_executor.lambda_logs import put_direct
        from localstack.services.logs.models import get_moto_logs_backend

        account, region = "000000000000", "eu-west-1"
        backend = get_moto_logs_backend(account, region)
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": "START 1\\n"}, {"timestamp": now, "message": "END 1\\n"}]
        out = {"no_group": put_direct(account, region, ("/aws/lambda/f", "s1"), events)}
        backend.create_log_group("/aws/lambda/f", {})
        out["no_stream"] = put_direct(account, region, ("/aws/lambda/f", "s1"), events)
        backend.create_log_stream("/aws/lambda/f", "s1")
        out["stored"] = put_direct(account, region, ("/aws/lambda/f", "s1"), events)
        stream = backend.groups["/aws/lambda/f"].streams["s1"]
        out["messages"] = [e.message for e in stream.events]
        backend.put_metric_filter("errors", "ERROR", "/aws/lambda/f",
                                  [{"metricName": "E", "metricNamespace": "N", "metricValue": "1"}])
        out["metric_filter"] = put_direct(account, region, ("/aws/lambda/f", "s1"), events)
        out["after"] = len(stream.events)
        print(json.dumps(out))
    """)
    assert result == {"no_group": False, "no_stream": False, "stored": True,
                      "messages": ["START 1\n", "END 1\n"], "metric_filter": False, "after": 2}


def test_localstacks_http_server_writes_no_access_log_line() -> None:
    result = in_localstack("""
        import io, json
        from rolo.gateway import Gateway
        from rolo.serving.twisted import TwistedGateway
        from twisted.internet.address import IPv4Address
        from photostack_localstack_executor import quiet_logs

        class Request:  # what twisted's combined log formatter reads
            method, uri, clientproto, code, sentLength = b"GET", b"/restapis/a/Prod/x", b"HTTP/1.0", 200, 2

            def getClientAddress(self):
                return IPv4Address("TCP", "127.0.0.1", 50000)

            def getHeader(self, name):
                return None

        site = TwistedGateway(Gateway())
        lines = []
        for cut in (False, True):
            if cut:
                quiet_logs.drop_twisted_access_log()
            site._logFile = io.StringIO()
            site.log(Request())
            lines.append(site._logFile.getvalue())
        print(json.dumps(lines))
    """)
    before, after = result
    assert "GET /restapis/a/Prod/x HTTP/1.0" in before
    assert after == ""
