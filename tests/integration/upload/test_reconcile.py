"""The reconciler over real S3 and SQS (LocalStack) and the Redis work claims.

A dead letter is Lambda's on-failure record of an S3 event whose three attempts failed; an
original whose event never arrived is simply an object no event was delivered for.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from upload.claims import RedisWorkClaims
from upload.pipeline import UploadProcessor
from upload.ports import PhotoStatus
from upload.reconcile import Reconciler
from upload.storage import S3ObjectStore

from tests.integration.upload.conftest import ENDPOINT
from tests.unit.upload.corpus import encode, photo
from tests.unit.upload.fakes import MemoryPhotoRegistry

pytestmark = pytest.mark.integration

EVENT = "5a1e6f0a-2b7c-4c1d-8e8f-0a1b2c3d4e5f"


class AwayRegistry(MemoryPhotoRegistry):
    """The photo service is away (a sidecar outage that outlasted Lambda's retries)."""

    away = True

    def get_status(self, photo_id: str) -> PhotoStatus | None:
        if self.away:
            raise ConnectionError("the photo service is unavailable")
        return super().get_status(photo_id)


@pytest.fixture
def dlq() -> Iterator[tuple[Any, str]]:
    sqs = boto3.client("sqs", endpoint_url=ENDPOINT, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    url = sqs.create_queue(QueueName=f"it-upload-dlq-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    yield sqs, url
    sqs.delete_queue(QueueUrl=url)


def on_failure_record(bucket: str, key: str) -> str:
    """What Lambda's SQS on-failure destination holds for a failed async S3 event."""
    event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                          "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}
    return json.dumps({"version": "1.0", "requestContext": {"condition": "RetriesExhausted",
                                                            "approximateInvokeCount": 3},
                       "requestPayload": event, "responseContext": {"statusCode": 200,
                                                                    "functionError": "Unhandled"}})


def upload(s3: Any, bucket: str, registry: MemoryPhotoRegistry) -> tuple[str, str]:
    photo_id = str(uuid.uuid4())
    key = f"originals/{EVENT}/{photo_id}"
    s3.put_object(Bucket=bucket, Key=key, Body=encode(photo(640, 480), "JPEG"), ContentType="image/jpeg")
    registry.reserve(photo_id)
    return photo_id, key


def visible(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                   "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attrs["Attributes"].values())


def waiting(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def test_dead_letters_are_redriven_once_the_cause_is_gone(
        s3: Any, store: S3ObjectStore, claims: RedisWorkClaims, buckets: tuple[str, str],
        dlq: tuple[Any, str]) -> None:
    uploads, derivatives = buckets
    sqs, url = dlq
    registry = AwayRegistry()
    photo_id, key = upload(s3, uploads, registry)
    sqs.send_message(QueueUrl=url, MessageBody=on_failure_record(uploads, key))
    reconciler = Reconciler(UploadProcessor(store, registry, claims, derivatives_bucket=derivatives),
                            s3, sqs, uploads_bucket=uploads, dlq_url=url, retry_after_s=0)

    # Still away: the dead letter is kept for the next run, the photo stays pending.
    first = reconciler.run(min_age_s=3600)
    assert (first.dead_letters, first.dead_letters_kept, first.outcomes["error"]) == (1, 1, 1)
    assert registry.photos[photo_id].status is PhotoStatus.PENDING
    assert visible(sqs, url) == 1

    registry.away = False
    deadline = time.monotonic() + 10
    while waiting(sqs, url) == 0:  # the kept letter becomes receivable again (retry_after_s=0)
        assert time.monotonic() < deadline, "the kept dead letter never became visible again"
        time.sleep(0.2)
    second = reconciler.run(min_age_s=3600)
    assert (second.dead_letters_done, second.outcomes["ready"]) == (1, 1), second.as_dict()
    assert registry.photos[photo_id].status is PhotoStatus.READY
    assert visible(sqs, url) == 0


def test_originals_whose_event_never_came_are_processed_and_finished_ones_skipped(
        s3: Any, store: S3ObjectStore, claims: RedisWorkClaims, buckets: tuple[str, str]) -> None:
    uploads, derivatives = buckets
    registry = MemoryPhotoRegistry()
    stuck_id, _ = upload(s3, uploads, registry)
    processor = UploadProcessor(store, registry, claims, derivatives_bucket=derivatives)
    done_id, done_key = upload(s3, uploads, registry)
    processor.process(uploads, done_key)
    registrations = registry.registrations

    # Too recent for the window: its event may still be on its way, nothing is touched.
    reconciler = Reconciler(processor, s3, None, uploads_bucket=uploads, dlq_url="")
    early = reconciler.run(min_age_s=3600)
    assert early.originals_seen == 0 and registry.photos[stuck_id].status is PhotoStatus.PENDING

    later = Reconciler(processor, s3, None, uploads_bucket=uploads, dlq_url="",
                       now=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))
    report = later.run(min_age_s=3600)
    assert registry.photos[stuck_id].status is PhotoStatus.READY
    assert registry.photos[done_id].status is PhotoStatus.READY
    assert report.outcomes["ready"] >= 1 and report.outcomes["skipped"] >= 1, report.as_dict()
    assert registry.registrations == registrations + 1  # the finished photo was not redone


def test_a_dead_letter_that_is_not_an_s3_event_is_dropped(
        s3: Any, store: S3ObjectStore, claims: RedisWorkClaims, buckets: tuple[str, str],
        dlq: tuple[Any, str]) -> None:
    uploads, derivatives = buckets
    sqs, url = dlq
    sqs.send_message(QueueUrl=url, MessageBody="not json {")
    reconciler = Reconciler(UploadProcessor(store, MemoryPhotoRegistry(), claims,
                                            derivatives_bucket=derivatives),
                            s3, sqs, uploads_bucket=uploads, dlq_url=url)
    report = reconciler.run(min_age_s=3600)
    assert (report.dead_letters_done, report.outcomes["unreadable"]) == (1, 1)
    assert visible(sqs, url) == 0
