"""CloudWatch's extraction of Embedded Metric Format lines, for LocalStack.

On AWS, CloudWatch Logs turns a function's EMF log lines into metrics; LocalStack's community
edition stores the lines but extracts nothing. The executor hands each invocation's logs
here, and the metrics go to LocalStack's own CloudWatch (PutMetricData), off the invoke path.
"""

from __future__ import annotations

import contextlib
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


CountKey = tuple[str, str, str, str, tuple[tuple[str, str], ...]]  # account, region, namespace, name, dims
_WAKE: tuple[str, list[dict[str, Any]]] = ("", [])


class MetricsShipper:
    """A bounded queue and one thread that puts metrics into LocalStack's CloudWatch."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, list[dict[str, Any]]]] = queue.Queue(maxsize=_MAX_PENDING)
        self._started = False
        self._lock = threading.Lock()
        self._counts: dict[CountKey, int] = {}

    def count(self, namespace: str, name: str, dimensions: dict[str, str], *,
              account_id: str = "", region_name: str = "") -> None:
        """One more of a counter (LocalStack's per-invocation Lambda metrics): the thread sends
        what added up as one statistic set per counter and batch."""
        key = (account_id, region_name, namespace, name, tuple(sorted(dimensions.items())))
        with self._lock:
            first = not self._counts
            self._counts[key] = self._counts.get(key, 0) + 1
        if first:
            self._start()
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(_WAKE)

    def take_counts(self) -> list[tuple[tuple[str, str], str, dict[str, Any]]]:
        """((account, region), namespace, datum) per counter since the last call, and reset."""
        with self._lock:
            counts, self._counts = self._counts, {}
        now = dt.datetime.now(dt.UTC)
        return [((account, region), namespace, {
            "MetricName": name, "Timestamp": now,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
            "StatisticValues": {"SampleCount": float(n), "Sum": float(n), "Minimum": 1.0, "Maximum": 1.0},
        }) for (account, region, namespace, name, dims), n in counts.items()]

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

        clients: dict[tuple[str, str], Any] = {("", ""): connect_to().cloudwatch}
        while True:
            batches = [(("", ""), namespace, data) for namespace, data in self._batch()]
            counted: dict[tuple[tuple[str, str], str], list[dict[str, Any]]] = {}
            for where, namespace, datum in self.take_counts():
                counted.setdefault((where, namespace), []).append(datum)
            batches += [(where, namespace, data[i:i + MAX_DATA_PER_REQUEST])
                        for (where, namespace), data in counted.items()
                        for i in range(0, len(data), MAX_DATA_PER_REQUEST)]
            for (account, region), namespace, data in batches:
                try:
                    if (account, region) not in clients:
                        clients[(account, region)] = connect_to(
                            aws_access_key_id=account or None, region_name=region or None).cloudwatch
                    clients[(account, region)].put_metric_data(Namespace=namespace, MetricData=data)
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
            if data:  # _WAKE: counters to send, nothing queued
                grouped.setdefault(namespace, []).extend(data)
        return [(namespace, data[i:i + MAX_DATA_PER_REQUEST])
                for namespace, data in grouped.items() for i in range(0, len(data), MAX_DATA_PER_REQUEST)]


SHIPPER = MetricsShipper()


def record_invocation(function_name: str, account_id: str, region_name: str) -> None:
    SHIPPER.count("AWS/Lambda", "Invocations", {"FunctionName": function_name},
                  account_id=account_id, region_name=region_name)


def record_error(function_name: str, account_id: str, region_name: str) -> None:
    record_invocation(function_name, account_id, region_name)
    SHIPPER.count("AWS/Lambda", "Errors", {"FunctionName": function_name},
                  account_id=account_id, region_name=region_name)


def batch_lambda_metrics() -> None:
    """LocalStack's Lambda service records AWS/Lambda Invocations (and Errors) with one
    PutMetricData per invocation, through its whole request path and a database insert each
    time: about a fifth of LocalStack's busy CPU under `ab -c 32` (py-spy). The same counters
    go out here as one statistic set per function per batch."""
    from localstack.services.lambda_.invocation import version_manager

    version_manager.record_cw_metric_invocation = record_invocation  # type: ignore[assignment]
    version_manager.record_cw_metric_error = record_error  # type: ignore[assignment]
    if not getattr(version_manager.start_thread, "photostack_inline_metrics", False):
        version_manager.start_thread = inline_metric_threads(version_manager.start_thread)


def inline_metric_threads(start_thread: Any) -> Any:
    """LocalStack's version manager starts a thread per invocation just to record its metric; the
    batched counters above only add one under a lock, so they run inline (a thread start per request
    cost more CPU than the count). Every other thread it starts is started as before."""
    def start(method: Any, *args: Any, name: str | None = None, **kwargs: Any) -> Any:
        if name and name.startswith("record-cloudwatch-metric"):
            method()
            return None
        return start_thread(method, *args, name=name, **kwargs)

    start.photostack_inline_metrics = True  # type: ignore[attr-defined]
    return start


def add_metric_data_in_one_transaction(self: Any, account_id: str, region: str, namespace: str,
                                       metric_data: list[dict[str, Any]]) -> None:
    """LocalStack's ``CloudwatchDatabase.add_metric_data``, with the same rows, in one SQLite
    connection and commit per PutMetricData instead of one per datum: a batch of EMF metrics
    (hundreds of data) opened and committed the metrics database hundreds of times, about a
    quarter of LocalStack's busy CPU under ``ab -c 32`` (py-spy, self time in add_metric_data)."""
    import sqlite3

    singles: list[tuple[Any, ...]] = []
    aggregated: list[tuple[Any, ...]] = []
    for metric in metric_data:
        stamp = (self._convert_timestamp_to_unix(metric.get("Timestamp")) if metric.get("Timestamp")
                 else int(dt.datetime.now(dt.UTC).timestamp()))
        common = (account_id, region, metric.get("MetricName"), namespace, stamp,
                  self._get_ordered_dimensions_with_separator(metric.get("Dimensions")),
                  metric.get("Unit"), metric.get("StorageResolution"))
        if metric.get("Value") is not None:
            singles.append((*common, metric.get("Value")))
        elif values := metric.get("Values"):
            counts = metric.get("Counts", [1] * len(values))
            for index, value in enumerate(values):
                singles.extend([(*common, value)] * int(counts[index]))
        if statistics := metric.get("StatisticValues"):
            aggregated.append((*common, statistics.get("SampleCount"), statistics.get("Sum"),
                               statistics.get("Minimum"), statistics.get("Maximum")))
    if not singles and not aggregated:
        return
    columns = "account_id, region, metric_name, namespace, timestamp, dimensions, unit, storage_resolution"
    with self.DATABASE_LOCK, contextlib.closing(sqlite3.connect(self.METRICS_DB)) as conn:
        if singles:
            conn.executemany(f"INSERT INTO {self.TABLE_SINGLE_METRICS} ({columns}, value) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", singles)
        if aggregated:
            conn.executemany(f"INSERT INTO {self.TABLE_AGGREGATED_METRICS} "
                             f"({columns}, sample_count, sum, min, max) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", aggregated)
        conn.commit()


def one_transaction_per_put_metric_data() -> None:
    from localstack.services.cloudwatch.cloudwatch_database_helper import CloudwatchDatabase

    CloudwatchDatabase.add_metric_data = add_metric_data_in_one_transaction  # type: ignore[method-assign]
