"""A photo whose face-index notice ended in the dead-letter queue is indexed after `photostack admin
redrive`, through the deployed stack.

The face-index function's queue trigger is switched off while the photo becomes ready, so its
real notice (sent by the upload function) waits in photostack-faces-index; the test moves that
notice into photostack-faces-index-dlq, as SQS does after the indexer failed it maxReceiveCount
times (an outage, an OOM-killed batch), and switches the trigger back on before anything else.
Other notices queued meanwhile only wait (they are put back at once, never deleted). The
deployed reconcile function then sends the notice back and the indexer stores the photo's faces.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import aws_client
from tests.e2e.journey_support import Apis, create_event, person, photo, reserve, send, wait_processed
from tests.e2e.test_reconcile_e2e import redrive
from tests.index_queue import INDEX_DLQ, INDEX_QUEUE

pytestmark = pytest.mark.e2e

FACE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "faces" / "people" / "amy" / \
    "amy2.png"


def set_trigger(lam: Any, mapping: str, enabled: bool) -> None:
    lam.update_event_source_mapping(UUID=mapping, Enabled=enabled)
    want = "Enabled" if enabled else "Disabled"
    deadline = time.monotonic() + 60
    while (state := lam.get_event_source_mapping(UUID=mapping)["State"]) != want:
        assert time.monotonic() < deadline, f"the face-index trigger stayed {state}, not {want}"
        time.sleep(0.5)


def take_notice(sqs: Any, queue_url: str, photo_id: str, timeout_s: float = 60) -> dict[str, Any]:
    """The photo's notice off the index queue (hidden for 5 minutes); others put back at once."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           VisibilityTimeout=300).get("Messages", []):
            if json.loads(message["Body"]).get("photo_id") == photo_id:
                return dict(message)
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"],
                                          VisibilityTimeout=0)
    raise AssertionError(f"no face-index notice for {photo_id} in {timeout_s} s")


def test_a_photo_whose_index_notice_was_dead_lettered_is_indexed_after_redrive(
        stack: dict[str, str]) -> None:
    apis = Apis.of(stack)
    photographer = person(apis, "photographer")
    event_id = create_event(apis, photographer, "Reconcile: dead-lettered face index")
    sqs, lam = aws_client("sqs"), aws_client("lambda")
    index_url = sqs.get_queue_url(QueueName=INDEX_QUEUE)["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=INDEX_DLQ)["QueueUrl"]
    [mapping] = [m["UUID"] for m in lam.list_event_source_mappings(FunctionName="photostack-faces")
                 ["EventSourceMappings"] if m["EventSourceArn"].endswith(f":{INDEX_QUEUE}")]

    set_trigger(lam, mapping, enabled=False)
    try:
        upload = reserve(apis, photographer, event_id, FACE.read_bytes(), "image/png")
        send(apis, photographer, upload)
        assert wait_processed(apis, photographer, [upload.photo_id])[upload.photo_id]["status"] == "ready"
        notice = take_notice(sqs, index_url, upload.photo_id)
        sqs.send_message(QueueUrl=dlq_url, MessageBody=notice["Body"])
        sqs.delete_message(QueueUrl=index_url, ReceiptHandle=notice["ReceiptHandle"])
    finally:
        set_trigger(lam, mapping, enabled=True)
    assert photo(apis, photographer, upload.photo_id).get("faces") is None, "indexed before the redrive"

    report = redrive()
    redriven = report.get("index_redriven")
    assert isinstance(redriven, int) and redriven >= 1, report

    deadline = time.monotonic() + 200
    while (faces := photo(apis, photographer, upload.photo_id).get("faces")) is None:
        assert time.monotonic() < deadline, f"not face-indexed 200 s after the redrive: {report}"
        time.sleep(1)
    assert faces["count"] >= 1, faces
