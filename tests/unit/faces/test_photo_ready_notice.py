"""The upload pipeline tells the face-index queue about each photo that becomes ready, once, and
a notice that cannot be sent never fails the upload."""

from __future__ import annotations

import json
from typing import Any

import pytest
from upload.notify import SqsPhotoReadyNotifier
from upload.pipeline import Status, UploadProcessor
from upload.ports import PhotoReady, PhotoStatus

from tests.unit.upload.corpus import encode, photo
from tests.unit.upload.fakes import MemoryObjectStore, MemoryPhotoRegistry, MemoryWorkClaims

pytestmark = pytest.mark.unit

EVENT = "e1"
PHOTO = "0b8f3c52-3d7e-4a43-9b39-c1f1f1d0a001"
KEY = f"originals/{EVENT}/{PHOTO}"


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[PhotoReady] = []
        self.fail = fail

    def photo_ready(self, ready: PhotoReady) -> None:
        if self.fail:
            raise ConnectionError("SQS went away")
        self.sent.append(ready)


def processor(notifier: Recorder, image: bytes | None = None) -> tuple[UploadProcessor, MemoryPhotoRegistry]:
    store, registry = MemoryObjectStore(), MemoryPhotoRegistry()
    registry.reserve(PHOTO)
    store.add("uploads", KEY, image if image is not None else encode(photo(), "JPEG"))
    return UploadProcessor(store, registry, MemoryWorkClaims(), derivatives_bucket="derivatives",
                           notifier=notifier), registry


def test_a_ready_photo_is_announced_once_with_its_web_jpeg() -> None:
    notices = Recorder()
    proc, _ = processor(notices)
    assert proc.process("uploads", KEY).status is Status.READY
    assert proc.process("uploads", KEY).status is Status.SKIPPED
    assert notices.sent == [PhotoReady(PHOTO, EVENT, f"derivatives/{EVENT}/{PHOTO}/web.jpg")]


def test_a_failed_photo_is_not_announced() -> None:
    notices = Recorder()
    proc, _ = processor(notices, image=b"not an image at all")
    assert proc.process("uploads", KEY).status is Status.FAILED
    assert notices.sent == []


def test_a_notice_that_cannot_be_sent_does_not_fail_the_upload() -> None:
    proc, registry = processor(Recorder(fail=True))
    assert proc.process("uploads", KEY).status is Status.READY
    assert registry.photos[PHOTO].status is PhotoStatus.READY


def test_the_sqs_message_is_what_the_face_index_function_reads() -> None:
    class Sqs:
        calls: list[dict[str, Any]] = []

        def send_message(self, **kw: Any) -> None:
            self.calls.append(kw)

    sqs = Sqs()
    SqsPhotoReadyNotifier(sqs, "https://queue").photo_ready(PhotoReady("p", "e", "derivatives/e/p/web.jpg"))
    (call,) = sqs.calls
    assert call["QueueUrl"] == "https://queue"
    assert json.loads(call["MessageBody"]) == {"photo_id": "p", "event_id": "e",
                                               "web_key": "derivatives/e/p/web.jpg"}
