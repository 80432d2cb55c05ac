"""The upload function: S3 ObjectCreated on the uploads bucket -> derivatives -> photo ready or failed.

The same code, deployed as the reconcile function, re-drives what fell through on a schedule.
"""

from __future__ import annotations

import time
from typing import Any

from chalice import Chalice, Rate
from chalice.app import CloudWatchEvent, S3Event
from photostack import metrics
from photostack.config import get_settings
from photostack.contract import ORIGINALS_PREFIX
from photostack.jsonlog import elapsed_ms, get_logger, request_id_var
from upload import bootstrap
from upload.reconcile import rebuild_requests

app = Chalice(app_name="photostack-upload")
log = get_logger("upload")

UPLOADS_BUCKET = get_settings().uploads_bucket  # for Chalice's own packager; SAM wires the trigger
RECONCILE_EVERY_MINUTES = 5


@app.on_s3_event(bucket=UPLOADS_BUCKET, events=["s3:ObjectCreated:*"], prefix=ORIGINALS_PREFIX)
def on_upload(event: S3Event) -> dict[str, Any]:
    # Transient failures (S3, Redis, sidecar) raise: Lambda's async retries, then the
    # on-failure destination (the DLQ), take it from there. Bad images end as failed photos.
    request_id_var.set(getattr(event.context, "aws_request_id", None))
    started = time.perf_counter()
    outcomes = bootstrap.handle(event.to_dict())
    for outcome in outcomes:
        log.info("upload processed", extra={"photo_id": outcome.photo_id, "status": outcome.status.value,
                                            "reason": outcome.reason, "duration_ms": elapsed_ms(started)})
        metrics.emit("PhotosProcessed", status=outcome.status.value)
    return {"outcomes": [{"photo_id": o.photo_id, "status": o.status.value, "reason": o.reason}
                         for o in outcomes]}


@app.schedule(Rate(RECONCILE_EVERY_MINUTES, unit=Rate.MINUTES))
def reconcile(event: CloudWatchEvent) -> dict[str, Any]:
    """Re-drive the upload DLQ, the face-index DLQ (back to its queue) and originals that never
    became ready (upload/reconcile.py).

    ``photostack admin redrive`` invokes it with ``detail`` naming the window, e.g.
    ``{"min_age_s": 0}`` to take every original regardless of age. The storage check invokes it
    with ``{"rebuild": [{"key", "sha256", "etag"}, ...]}`` for ready photos whose derivatives are
    gone: only those are rebuilt, and the answer is ``{"rebuilt": [...]}``.
    """
    request_id_var.set(getattr(event.context, "aws_request_id", None))
    detail = event.detail if isinstance(event.detail, dict) else {}
    if "rebuild" in detail:  # the storage check: ready photos whose derivatives are gone
        answers = bootstrap.rebuild(rebuild_requests(detail["rebuild"]))
        for answer in answers:
            metrics.emit("PhotosRebuilt", status=answer["status"])
        return {"rebuilt": answers}
    expire_after = _number(detail, "expire_after_s", 0.0)
    event_id = detail.get("event_id")
    report = bootstrap.reconcile(min_age_s=_number(detail, "min_age_s", 120.0),
                                 max_age_s=_number(detail, "max_age_s", 7 * 86400.0),
                                 limit=int(_number(detail, "limit", 1000)),
                                 expire_after_s=int(expire_after) if expire_after >= 1 else None,
                                 event_id=event_id if isinstance(event_id, str) else "")
    for status, count in report.outcomes.items():
        metrics.emit("PhotosRedriven", count, status=status)
    return report.as_dict()


def _number(detail: dict[str, Any], name: str, default: float) -> float:
    value = detail.get(name, default)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 \
        else default
