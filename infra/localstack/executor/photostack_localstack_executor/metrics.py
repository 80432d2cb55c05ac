"""CloudWatch's extraction of Embedded Metric Format lines, for LocalStack.

On AWS, CloudWatch Logs turns a function's EMF log lines into metrics; LocalStack's community
edition stores the lines but extracts nothing. The executor hands each invocation's logs
here, and the metrics go to LocalStack's own CloudWatch (PutMetricData), off the invoke path.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
import time
from typing import Any

LOG = logging.getLogger(__name__)
_MAX_PENDING = 10_000
BATCH_WINDOW_S = 0.5
MAX_DATA_PER_REQUEST = 1000


def metric_data(line: str) -> tuple[str, list[dict[str, Any]]] | None:
    """(namespace, MetricData) of one EMF line, or None for any other line."""
    if '"_aws"' not in line:
        return None
    try:
        doc = json.loads(line)
        spec = doc["_aws"]
        stamp = dt.datetime.fromtimestamp(spec["Timestamp"] / 1000, dt.UTC)
        out: list[tuple[str, list[dict[str, Any]]]] = []
        for directive in spec["CloudWatchMetrics"]:
            data = []
            for dims in directive.get("Dimensions") or [[]]:
                dimensions = [{"Name": d, "Value": str(doc[d])} for d in dims]
                for metric in directive["Metrics"]:
                    data.append({"MetricName": metric["Name"], "Value": float(doc[metric["Name"]]),
                                 "Unit": metric.get("Unit", "None"), "Timestamp": stamp,
                                 "Dimensions": dimensions})
            out.append((str(directive["Namespace"]), data))
    except (ValueError, KeyError, TypeError, OSError, OverflowError):
        return None
    if not out:
        return None
    namespace = out[0][0]
    return namespace, [d for ns, data in out if ns == namespace for d in data]


class MetricsShipper:
    """A bounded queue and one thread that puts metrics into LocalStack's CloudWatch."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, list[dict[str, Any]]]] = queue.Queue(maxsize=_MAX_PENDING)
        self._started = False
        self._lock = threading.Lock()

    def ship(self, logs: str) -> None:
        for line in logs.splitlines():
            found = metric_data(line.strip())
            if found is None:
                continue
            self._start()
            try:
                self._queue.put_nowait(found)
            except queue.Full:
                LOG.debug("metrics queue full; dropping a metric")

    def _start(self) -> None:
        with self._lock:
            if not self._started:
                threading.Thread(target=self._run, name="emf-metrics", daemon=True).start()
                self._started = True

    def _run(self) -> None:
        from localstack.aws.connect import connect_to

        client = connect_to().cloudwatch
        while True:
            for namespace, data in self._batch():
                try:
                    client.put_metric_data(Namespace=namespace, MetricData=data)
                except Exception as exc:  # CloudWatch not started, or a malformed metric: never the invoke
                    LOG.debug("put_metric_data failed: %s", exc)

    def _batch(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """What queued up within BATCH_WINDOW_S of the first metric, one request per namespace and
        per 1,000 data (CloudWatch's limit). Under load, one PutMetricData per invocation went
        through LocalStack's whole request path each time: a CPU cost per request."""
        pending = [self._queue.get()]
        deadline = time.monotonic() + BATCH_WINDOW_S
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                pending.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        grouped: dict[str, list[dict[str, Any]]] = {}
        for namespace, data in pending:
            grouped.setdefault(namespace, []).extend(data)
        return [(namespace, data[i:i + MAX_DATA_PER_REQUEST])
                for namespace, data in grouped.items() for i in range(0, len(data), MAX_DATA_PER_REQUEST)]


SHIPPER = MetricsShipper()
