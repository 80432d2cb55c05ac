"""The face-index function: photo-ready notices from SQS -> faces stored through the photo sidecar."""

from __future__ import annotations

import json
import time
from typing import Any

from chalice import Chalice
from chalice.app import SQSEvent
from faces import bootstrap
from faces.indexing import BadNotice
from photostack.jsonlog import elapsed_ms, get_logger, request_id_var

app = Chalice(app_name="photostack-faces")
log = get_logger("faces")

QUEUE = "photostack-faces-index"


def notice(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise BadNotice("the message body is not JSON") from exc


@app.on_sqs_message(queue=QUEUE, batch_size=5)
def on_photo_ready(event: SQSEvent) -> dict[str, Any]:
    # One failed notice fails the batch: SQS delivers all of it again, and the notices already
    # done are skipped (the sidecar knows they are indexed). Bad notices are dropped, not retried.
    request_id_var.set(getattr(event.context, "aws_request_id", None))
    indexer = bootstrap.service()
    done, failed = [], 0
    for record in event:
        started = time.perf_counter()
        try:
            outcome = indexer.index(notice(record.body))
        except BadNotice as exc:
            log.error("not a photo-ready notice; dropped",
                      extra={"error": str(exc), "body": record.body[:200]})
            continue
        except Exception:
            log.exception("face indexing failed; the notice will be delivered again")
            failed += 1
            continue
        log.info("photo face-indexed", extra={"photo_id": outcome.photo_id, "status": outcome.status,
                                              "faces": outcome.faces, "reason": outcome.reason,
                                              "bibs": outcome.bibs,
                                              "duration_ms": elapsed_ms(started)})
        done.append({"photo_id": outcome.photo_id, "status": outcome.status, "faces": outcome.faces,
                     "bibs": outcome.bibs})
    if failed:
        raise RuntimeError(f"{failed} notice(s) of this batch failed; the batch is delivered again")
    return {"outcomes": done}
