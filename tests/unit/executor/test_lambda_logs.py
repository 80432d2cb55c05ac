"""The executor plugin sends the functions' logs to CloudWatch Logs in batches (lambda_logs.py)."""

from __future__ import annotations

import importlib.util
import queue
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.unit

MODULE = (Path(__file__).resolve().parents[3] / "infra" / "localstack" / "executor"
          / "photostack_localstack_executor" / "lambda_logs.py")
SHUTDOWN = object()


def lambda_logs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lambda_logs", MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Item:  # LocalStack's LogItem
    log_group: str
    log_stream: str
    logs: str


def test_what_queued_within_the_window_goes_out_as_one_request_per_stream_in_order() -> None:
    module = lambda_logs()
    pending: queue.Queue[object] = queue.Queue()
    for item in (Item("/aws/lambda/a", "s1", "START 2\nREPORT 2\n"), Item("/aws/lambda/b", "s1", "START x\n"),
                 Item("/aws/lambda/a", "s1", "START 3\n\nEND 3\n")):
        pending.put(item)
    taken, stop = module.take_batch(pending, Item("/aws/lambda/a", "s1", "START 1\n"), SHUTDOWN)
    assert not stop
    requests = module.batches(taken)
    assert [(stream, [e["message"] for e in events]) for stream, events in requests] == [
        (("/aws/lambda/a", "s1"), ["START 1\n", "START 2\n", "REPORT 2\n", "START 3\n", "END 3\n"]),
        (("/aws/lambda/b", "s1"), ["START x\n"]),
    ]
    stamps = [e["timestamp"] for e in requests[0][1]]
    assert stamps == sorted(stamps)  # PutLogEvents wants one stream's events in time order


def test_the_shutdown_item_stops_the_loop_after_what_came_before_it() -> None:
    module = lambda_logs()
    pending: queue.Queue[object] = queue.Queue()
    pending.put(SHUTDOWN)
    pending.put(Item("g", "s", "after the shutdown\n"))
    taken, stop = module.take_batch(pending, Item("g", "s", "before\n"), SHUTDOWN)
    assert stop
    assert [e["message"] for _, events in taken for e in events] == ["before\n"]
    assert module.take_batch(pending, SHUTDOWN, SHUTDOWN) == ([], True)


def test_a_stream_is_split_at_cloudwatchs_request_limits() -> None:
    module = lambda_logs()
    line = "x" * 1000
    many = [(("g", "s"), module.events_of("\n".join([line] * 2000), 1))]
    requests = module.batches(many)
    assert len(requests) == 2
    for _, events in requests:
        size = sum(len(e["message"].encode()) + module.EVENT_OVERHEAD_BYTES for e in events)
        assert size <= module.MAX_BYTES_PER_REQUEST
        assert len(events) <= module.MAX_EVENTS_PER_REQUEST
    assert sum(len(events) for _, events in requests) == 2000
