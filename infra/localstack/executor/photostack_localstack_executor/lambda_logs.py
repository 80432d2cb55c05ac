"""Function logs to CloudWatch Logs in batches instead of one PutLogEvents per invocation.

LocalStack's Lambda service queues each invocation's log text and one thread per function
version sends it with its own ``PutLogEvents`` through LocalStack's internal client: a whole
request through the gateway's handler chain per invocation, about a tenth of LocalStack's busy
CPU under ``ab -c 32`` (py-spy, ``LogHandler.run_log_loop``). The loop below does what
LocalStack's does (same lines, one event per non-empty line with its newline kept, the group and
stream created when missing, failures logged) but takes what queued up within
``BATCH_WINDOW_S`` of the first item and sends it as one ``PutLogEvents`` per log stream, within
CloudWatch's limits. Each invocation's lines keep the time they were taken off the queue (LocalStack
stamped them when it sent them), so ``make logs`` and ``filter_log_events`` see them as before,
at most ``BATCH_WINDOW_S`` later.

Each batch goes into LocalStack's CloudWatch Logs store directly (``put_direct``) when that is all
LocalStack's Logs provider would do with the request: even batched, the internal client's
PutLogEvents (botocore's validation and serialization, the gateway's handler chain, LocalStack's
parser, moto's own parsing of the same body, the answer back) was about a tenth of LocalStack's busy
CPU under ``ab -c 32`` on GET /probe/ok, and moto's store itself under a tenth of that (py-spy
--gil). The store is moto's backend with LocalStack's patched log stream, so subscription filters
still forward; a region with metric filters (which the provider turns into PutMetricData) and a
group or stream that does not exist yet (created, then put, as before) go through the client.

Installed at start-up by request_path.py, before any function version starts its loop.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import time
from collections.abc import Iterable
from typing import Any

LOG = logging.getLogger(__name__)
BATCH_WINDOW_S = 0.25
MAX_ITEMS_PER_BATCH = 2000
# CloudWatch Logs' PutLogEvents limits: 10,000 events and 1,048,576 bytes (each event counts its
# UTF-8 message plus 26 bytes).
MAX_EVENTS_PER_REQUEST = 10_000
MAX_BYTES_PER_REQUEST = 1_048_576
EVENT_OVERHEAD_BYTES = 26

Stream = tuple[str, str]  # log group, log stream
Event = dict[str, Any]  # {"timestamp": ms, "message": line}


def events_of(logs: str, timestamp_ms: int) -> list[Event]:
    """LocalStack's split: one event per non-empty line, its newline kept."""
    return [{"timestamp": timestamp_ms, "message": line + "\n"} for line in logs.split("\n") if line]


def batches(items: Iterable[tuple[Stream, list[Event]]]) -> list[tuple[Stream, list[Event]]]:
    """The events of each stream, in order, in requests within CloudWatch's limits."""
    by_stream: dict[Stream, list[Event]] = {}
    for stream, events in items:
        by_stream.setdefault(stream, []).extend(events)
    out: list[tuple[Stream, list[Event]]] = []
    for stream, events in by_stream.items():
        current: list[Event] = []
        size = 0
        for event in events:
            event_size = len(event["message"].encode()) + EVENT_OVERHEAD_BYTES
            full = len(current) >= MAX_EVENTS_PER_REQUEST or size + event_size > MAX_BYTES_PER_REQUEST
            if current and full:
                out.append((stream, current))
                current, size = [], 0
            current.append(event)
            size += event_size
        if current:
            out.append((stream, current))
    return out


def take_batch(items: queue.Queue[Any], first: Any, shutdown: object,
               window_s: float = BATCH_WINDOW_S) -> tuple[list[tuple[Stream, list[Event]]], bool]:
    """``first`` and what else arrives within ``window_s``, as (stream, events) pairs stamped when
    taken; True when the shutdown item came (the loop sends what it has and stops)."""
    taken: list[tuple[Stream, list[Event]]] = []
    last_ms = 0

    def add(item: Any) -> None:
        nonlocal last_ms
        last_ms = max(last_ms, int(time.time() * 1000))  # one stream's events must not go back in time
        taken.append(((item.log_group, item.log_stream), events_of(item.logs, last_ms)))

    if first is shutdown:
        return taken, True
    add(first)
    deadline = time.monotonic() + window_s
    while len(taken) < MAX_ITEMS_PER_BATCH and (remaining := deadline - time.monotonic()) > 0:
        try:
            item = items.get(timeout=remaining)
        except queue.Empty:
            break
        if item is shutdown:
            return taken, True
        add(item)
    return taken, False


def _put(logs_client: Any, stream: Stream, events: list[Event]) -> None:
    group, name = stream
    try:
        logs_client.put_log_events(logGroupName=group, logStreamName=name, logEvents=events)
    except logs_client.exceptions.ResourceNotFoundException:
        with contextlib.suppress(logs_client.exceptions.ResourceAlreadyExistsException):
            logs_client.create_log_group(logGroupName=group)
        with contextlib.suppress(logs_client.exceptions.ResourceAlreadyExistsException):
            logs_client.create_log_stream(logGroupName=group, logStreamName=name)
        logs_client.put_log_events(logGroupName=group, logStreamName=name, logEvents=events)


def put_direct(account_id: str, region: str, stream: Stream, events: list[Event]) -> bool:
    """The events stored as LocalStack's ``LogsProvider.put_log_events`` would store them, without
    the request; False (nothing stored) when the provider would do more: metric filters in the
    region, or the group or stream missing (an error answer). The caller then sends the request."""
    import localstack.services.logs.provider  # noqa: F401  (LocalStack's patches of moto's log stream)
    from localstack.services.logs.models import get_moto_logs_backend
    from localstack.utils.bootstrap import is_api_enabled
    from moto.logs.exceptions import ResourceNotFoundException

    backend = get_moto_logs_backend(account_id, region)
    if backend.filters.metric_filters and is_api_enabled("cloudwatch"):
        return False
    group, name = stream
    try:
        backend.put_log_events(group, name, events)
    except ResourceNotFoundException:  # raised before anything is stored
        return False
    return True


def run_batched_log_loop(self: Any, *args: Any, **kwargs: Any) -> None:
    """``LogHandler.run_log_loop``, batched (``self`` is LocalStack's LogHandler)."""
    from localstack.aws.connect import connect_to
    from localstack.services.lambda_.invocation.logs import QUEUE_SHUTDOWN
    from localstack.utils.aws.arns import extract_account_id_from_arn
    from localstack.utils.aws.client_types import ServicePrincipal

    # The account the client's requests would carry: the function's role's (connect_to assumes it).
    account_id = extract_account_id_from_arn(self.role_arn)
    logs_client = connect_to.with_assumed_role(
        region_name=self.region, role_arn=self.role_arn, service_principal=ServicePrincipal.lambda_,
    ).logs
    while not self._shutdown_event.is_set():
        taken, stop = take_batch(self.log_queue, self.log_queue.get(), QUEUE_SHUTDOWN)
        for stream, events in batches(taken):
            if not events:
                continue
            try:
                if not (account_id and put_direct(account_id, self.region, stream, events)):
                    _put(logs_client, stream, events)
            except Exception as exc:
                LOG.warning("Error saving logs to group %s in region %s: %s", stream[0], self.region, exc)
        if stop:
            return


def install() -> None:
    from localstack.services.lambda_.invocation.logs import LogHandler

    LogHandler.run_log_loop = run_batched_log_loop  # type: ignore[method-assign]
