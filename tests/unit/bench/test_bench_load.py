"""bench_load reads ApacheBench's summary: requests/s, its percentile table, and non-2xx answers."""

from __future__ import annotations

import pytest

from tests.bench.bench_load import BenchError, parse_ab
from tests.bench.stats import NotMeasured

pytestmark = pytest.mark.unit

AB_OUTPUT = """\
Server Software:        TwistedWeb/26.4.0
Concurrency Level:      32
Time taken for tests:   15.002 seconds
Complete requests:      2310
Failed requests:        17
   (Connect: 0, Receive: 0, Length: 17, Exceptions: 0)
Non-2xx responses:      3
Requests per second:    153.98 [#/sec] (mean)

Percentage of the requests served within a certain time (ms)
  50%    201
  66%    215
  75%    224
  80%    230
  90%    251
  95%    270
  98%    301
  99%    340
 100%    812 (longest request)
"""


def test_the_summary_is_read_and_non_2xx_answers_fail_the_row() -> None:
    result = parse_ab(AB_OUTPUT)
    assert (result.requests_per_s, result.complete, result.non_2xx) == (153.98, 2310, 3)
    assert (result.p50_ms, result.p95_ms, result.p99_ms, result.max_ms) == (201, 270, 340, 812)
    # "Failed requests" are answers of another length (fresh presigned URLs): not errors.
    assert result.text().startswith("not measured: 3 answers not 2xx; 154.0 req/s")


def test_every_answer_2xx_is_a_figure() -> None:
    result = parse_ab(AB_OUTPUT.replace("Non-2xx responses:      3\n", ""))
    assert result.non_2xx == 0
    assert result.text() == "154.0 req/s, p50 201 ms, p95 270 ms, p99 340 ms, max 812 ms (n=2310)"


def test_output_without_a_summary_is_not_measured() -> None:
    with pytest.raises(NotMeasured):
        parse_ab("apr_socket_recv: Connection refused (111)\n")
    assert issubclass(BenchError, NotMeasured)
