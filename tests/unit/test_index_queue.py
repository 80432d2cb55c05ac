"""tests/index_queue.py names the face-index queues as template.yaml creates them, and reads a
queue's depth as SQS answers it (the shape of GetQueueAttributes' answer)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.deploy import load_template
from tests.index_queue import INDEX_DLQ, INDEX_QUEUE, QueueDepth, queue_depth

pytestmark = pytest.mark.unit


def test_the_queue_names_are_the_templates() -> None:
    resources = load_template()["Resources"]
    assert resources["FacesIndexQueue"]["Properties"]["QueueName"] == INDEX_QUEUE
    assert resources["FacesIndexDeadLetterQueue"]["Properties"]["QueueName"] == INDEX_DLQ


class AnsweringSqs:
    """Answers as SQS does: counts as strings, under Attributes."""

    def __init__(self, counts: dict[str, dict[str, str]]) -> None:
        self.counts = counts

    def get_queue_url(self, QueueName: str) -> dict[str, str]:
        return {"QueueUrl": f"http://sqs/{QueueName}"}

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        counts = self.counts[QueueUrl.rsplit("/", 1)[1]]
        return {"Attributes": {name: counts[name] for name in AttributeNames}}


def test_a_queues_depth_counts_waiting_and_in_flight_notices() -> None:
    sqs = AnsweringSqs({INDEX_QUEUE: {"ApproximateNumberOfMessages": "3",
                                      "ApproximateNumberOfMessagesNotVisible": "2"},
                        INDEX_DLQ: {"ApproximateNumberOfMessages": "0",
                                    "ApproximateNumberOfMessagesNotVisible": "0"}})
    depth = queue_depth(sqs, INDEX_QUEUE)
    assert depth == QueueDepth(waiting=3, in_flight=2) and depth.total == 5
    assert depth.text() == "3 waiting, 2 in flight"
    assert queue_depth(sqs, INDEX_DLQ).total == 0
