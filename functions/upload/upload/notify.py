"""The photo-ready notice as an SQS message to the face-index queue.

PHOTOSTACK_FACES_QUEUE_URL   the queue (template.yaml: FacesIndexQueue); unset: no notices
"""

from __future__ import annotations

import json
from typing import Any

from upload.ports import PhotoReady


class SqsPhotoReadyNotifier:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url

    def photo_ready(self, ready: PhotoReady) -> None:
        body = {"photo_id": ready.photo_id, "event_id": ready.event_id, "web_key": ready.web_key}
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(body))
