"""The face-index queue (template.yaml: FacesIndexQueue) and its dead-letter queue, named once for
the tests and benches that read them, and the read of how many notices a queue holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

INDEX_QUEUE = "photostack-faces-index"
INDEX_DLQ = f"{INDEX_QUEUE}-dlq"


@dataclass(frozen=True)
class QueueDepth:
    waiting: int  # visible, for a consumer to receive
    in_flight: int  # received, not yet deleted (or back when their visibility timeout ends)

    @property
    def total(self) -> int:
        return self.waiting + self.in_flight

    def text(self) -> str:
        return f"{self.waiting} waiting, {self.in_flight} in flight"


def queue_depth(sqs: Any, name: str) -> QueueDepth:
    """SQS's approximate counts for the queue ``name`` (a boto3 SQS client)."""
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return QueueDepth(waiting=int(got["ApproximateNumberOfMessages"]),
                      in_flight=int(got["ApproximateNumberOfMessagesNotVisible"]))
