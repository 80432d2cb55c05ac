"""The upload function: S3 ObjectCreated on the uploads bucket -> derivatives -> photo ready or failed."""

from __future__ import annotations

import os
import time
from typing import Any

from chalice import Chalice
from chalice.app import S3Event
from photostack.jsonlog import elapsed_ms, get_logger, request_id_var
from upload import bootstrap

app = Chalice(app_name="photostack-upload")
log = get_logger("upload")

UPLOADS_BUCKET = os.environ.get("PHOTOSTACK_UPLOADS_BUCKET") or "photostack-uploads"


@app.on_s3_event(bucket=UPLOADS_BUCKET, events=["s3:ObjectCreated:*"], prefix="originals/")
def on_upload(event: S3Event) -> dict[str, Any]:
    # Transient failures (S3, Redis, sidecar) raise: Lambda's async retries, then the
    # on-failure destination (the DLQ), take it from there. Bad images end as failed photos.
    request_id_var.set(getattr(event.context, "aws_request_id", None))
    started = time.perf_counter()
    outcomes = bootstrap.handle(event.to_dict())
    for outcome in outcomes:
        log.info("upload processed", extra={"photo_id": outcome.photo_id, "status": outcome.status.value,
                                            "reason": outcome.reason, "duration_ms": elapsed_ms(started)})
    return {"outcomes": [{"photo_id": o.photo_id, "status": o.status.value, "reason": o.reason}
                         for o in outcomes]}
