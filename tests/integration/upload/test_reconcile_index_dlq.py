"""The reconciler sends the face-index dead-letter queue back to the index queue (real LocalStack SQS).

Each test has its own index queue and dead-letter queue, wired like template.yaml's (a
RedrivePolicy), so the deployed face-index function never sees these messages. The photo
statuses come from the in-memory registry (the ready check is one GetPhoto in production).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from upload.claims import RedisWorkClaims
from upload.pipeline import UploadProcessor
from upload.ports import PhotoStatus
from upload.reconcile import MAX_INDEX_REDRIVES, REDRIVES_ATTRIBUTE, Reconciler
from upload.storage import S3ObjectStore

from tests.integration.upload.conftest import ENDPOINT
from tests.integration.upload.test_reconcile import on_failure_record, upload, visible
from tests.unit.upload.fakes import MemoryPhotoRegistry

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Queues:
    sqs: Any
    index: str
    dlq: str


@pytest.fixture
def queues() -> Iterator[Queues]:
    sqs = boto3.client("sqs", endpoint_url=ENDPOINT, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    suffix = uuid.uuid4().hex[:10]
    dlq = sqs.create_queue(QueueName=f"it-index-dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # One receive before the dead-letter queue (the stack's is 4): a test can fail a delivery
    # by receiving it once and letting it go.
    index = sqs.create_queue(QueueName=f"it-index-{suffix}", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})})["QueueUrl"]
    yield Queues(sqs, index, dlq)
    for url in (index, dlq):
        sqs.delete_queue(QueueUrl=url)


class Registry(MemoryPhotoRegistry):
    """Photo statuses; no idle reservations (the reconciler's other passes find nothing)."""

    away = False

    def get_status(self, photo_id: str) -> PhotoStatus | None:
        if self.away:
            raise ConnectionError("the photo service is unavailable")
        return super().get_status(photo_id)

    def idle_reservations(self, idle_s: int, *, event_id: str, limit: int) -> list[Any]:
        return []

    def expire_reservation(self, photo_id: str, idle_s: int) -> PhotoStatus | None:
        return None

    def photo(self, status: PhotoStatus) -> str:
        photo_id = str(uuid.uuid4())
        self.reserve(photo_id)
        self.photos[photo_id].status = status
        return photo_id


def notice(photo_id: str) -> str:
    """What the upload function sends when a photo is ready (upload/notify.py)."""
    return json.dumps({"photo_id": photo_id, "event_id": str(uuid.uuid4()),
                       "web_key": f"web/{photo_id}.jpg"})


def reconciler(q: Queues, registry: Registry, *, dlq_url: str = "", uploads: str = "",
               store: Any = None, claims: Any = None, derivatives: str = "") -> Reconciler:
    processor = UploadProcessor(store, registry, claims, derivatives_bucket=derivatives)
    return Reconciler(processor, None, q.sqs, uploads_bucket=uploads, dlq_url=dlq_url, retry_after_s=0,
                      index_queue_url=q.index, index_dlq_url=q.dlq, photos=registry, reservations=registry)


def receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message now visible in the queue (deleted as read)."""
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                    MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        messages.extend(batch)


def test_a_ready_photos_notice_goes_back_to_the_index_queue_and_others_are_dropped(queues: Queues) -> None:
    registry = Registry()
    ready, failed, pending = (registry.photo(s) for s in (PhotoStatus.READY, PhotoStatus.FAILED,
                                                          PhotoStatus.PENDING))
    gone = str(uuid.uuid4())
    for photo_id in (ready, failed, pending, gone):
        queues.sqs.send_message(QueueUrl=queues.dlq, MessageBody=notice(photo_id))
    queues.sqs.send_message(QueueUrl=queues.dlq, MessageBody="not json {")

    report = reconciler(queues, registry).run(min_age_s=3600)

    assert (report.index_dead_letters, report.index_redriven, report.index_dropped, report.index_kept,
            report.index_parked) == (5, 1, 4, 0, 0), report.as_dict()
    assert visible(queues.sqs, queues.dlq) == 0
    [back] = receive_all(queues.sqs, queues.index)
    assert json.loads(back["Body"])["photo_id"] == ready
    assert back["MessageAttributes"][REDRIVES_ATTRIBUTE]["StringValue"] == "1"


def test_a_notice_is_kept_while_the_photo_service_is_away(queues: Queues) -> None:
    registry = Registry()
    photo_id = registry.photo(PhotoStatus.READY)
    queues.sqs.send_message(QueueUrl=queues.dlq, MessageBody=notice(photo_id))
    registry.away = True

    first = reconciler(queues, registry).run(min_age_s=3600)
    assert (first.index_dead_letters, first.index_kept, first.index_redriven) == (1, 1, 0)
    assert visible(queues.sqs, queues.dlq) == 1
    assert visible(queues.sqs, queues.index) == 0

    registry.away = False
    deadline = time.monotonic() + 20
    second = reconciler(queues, registry).run(min_age_s=3600)
    while second.index_redriven == 0:  # the kept notice becomes receivable again (retry_after_s=0)
        assert time.monotonic() < deadline, f"the kept notice was never redriven: {second.as_dict()}"
        time.sleep(0.2)
        second = reconciler(queues, registry).run(min_age_s=3600)
    assert visible(queues.sqs, queues.dlq) == 0
    [back] = receive_all(queues.sqs, queues.index)
    assert json.loads(back["Body"])["photo_id"] == photo_id


def test_a_notice_that_fails_after_every_redrive_is_parked_in_the_dead_letter_queue(queues: Queues) -> None:
    registry = Registry()
    photo_id = registry.photo(PhotoStatus.READY)
    queues.sqs.send_message(QueueUrl=queues.dlq, MessageBody=notice(photo_id))
    for attempt in range(1, MAX_INDEX_REDRIVES + 1):
        report = reconciler(queues, registry).run(min_age_s=3600)
        assert report.index_redriven == 1, (attempt, report.as_dict())
        # The indexer fails it: received and let go, SQS itself moves it to the dead-letter
        # queue on the next receive (maxReceiveCount 1), its redrive count with it.
        deadline = time.monotonic() + 20
        while visible(queues.sqs, queues.dlq) == 0:
            assert time.monotonic() < deadline, "the failed notice never reached the dead-letter queue"
            for message in queues.sqs.receive_message(QueueUrl=queues.index, MaxNumberOfMessages=10,
                                                      VisibilityTimeout=0).get("Messages", []):
                assert json.loads(message["Body"])["photo_id"] == photo_id
            time.sleep(0.2)

    parked = reconciler(queues, registry).run(min_age_s=3600)
    assert (parked.index_dead_letters, parked.index_parked, parked.index_redriven) == (1, 1, 0), \
        parked.as_dict()
    # Still in the dead-letter queue for an operator, hidden until a later run.
    attrs = queues.sqs.get_queue_attributes(QueueUrl=queues.dlq, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert (attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"]) \
        == ("0", "1")
    assert visible(queues.sqs, queues.index) == 0


def test_a_run_handles_at_most_limit_notices(queues: Queues) -> None:
    registry = Registry()
    for _ in range(5):
        queues.sqs.send_message(QueueUrl=queues.dlq, MessageBody=notice(registry.photo(PhotoStatus.READY)))

    report = reconciler(queues, registry).run(min_age_s=3600, limit=3)

    assert (report.index_dead_letters, report.index_redriven) == (3, 3), report.as_dict()
    assert len(receive_all(queues.sqs, queues.index)) == 3
    assert visible(queues.sqs, queues.dlq) == 2


def test_one_run_drains_both_dead_letter_queues(
        s3: Any, store: S3ObjectStore, claims: RedisWorkClaims, buckets: tuple[str, str],
        queues: Queues) -> None:
    uploads, derivatives = buckets
    registry = Registry()
    upload_dlq = queues.sqs.create_queue(QueueName=f"it-upload-dlq-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    try:
        stuck_id, key = upload(s3, uploads, registry)
        queues.sqs.send_message(QueueUrl=upload_dlq, MessageBody=on_failure_record(uploads, key))
        ready = registry.photo(PhotoStatus.READY)
        queues.sqs.send_message(QueueUrl=queues.dlq, MessageBody=notice(ready))

        report = reconciler(queues, registry, dlq_url=upload_dlq, uploads=uploads, store=store,
                            claims=claims, derivatives=derivatives).run(min_age_s=3600)

        assert (report.dead_letters_done, report.outcomes["ready"]) == (1, 1), report.as_dict()
        assert registry.photos[stuck_id].status is PhotoStatus.READY
        assert visible(queues.sqs, upload_dlq) == 0
        assert visible(queues.sqs, queues.dlq) == 0
        # The upload redrive's own ready notice is not sent (no notifier here); the index one is.
        assert [json.loads(m["Body"])["photo_id"] for m in receive_all(queues.sqs, queues.index)] == [ready]
    finally:
        queues.sqs.delete_queue(QueueUrl=upload_dlq)
