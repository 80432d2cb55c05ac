"""Re-drive what fell through the upload path, so every photo ends ``ready`` or ``failed``.

Two sources of stuck photos, both worked through the same :class:`UploadProcessor` (and so the
same exactly-once work claims) as the S3 trigger:

- **The upload dead-letter queue.** An S3 event whose three async attempts all failed (the
  sidecar, Redis or S3 was away for longer) lands there as Lambda's on-failure record, with
  the original event under ``requestPayload``. Each record is processed again; a message is
  deleted once its work is done (ready, failed with a reason, or skipped), and kept for the
  next run while the cause persists.
- **Originals whose event never arrived**, or arrived while nothing could process it: every
  original under ``originals/`` uploaded between ``min_age_s`` and ``max_age_s`` ago is handed
  to the processor, which skips photos already ``ready``/``failed`` after one status lookup.

Runs on a schedule (template.yaml) and on demand (``photostack admin redrive``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from photostack.contract import ORIGINALS_PREFIX
from photostack.jsonlog import get_logger

from upload.errors import WorkInProgressError
from upload.pipeline import ProcessResult
from upload.records import s3_records

log = get_logger("upload.reconcile")


class Processor(Protocol):
    def process(self, bucket: str, key: str) -> ProcessResult: ...


@dataclass
class Report:
    dead_letters: int = 0  # messages read from the DLQ
    dead_letters_done: int = 0  # deleted: their photos reached a final state (or were not ours)
    dead_letters_kept: int = 0  # still failing: left for the next run
    originals_seen: int = 0  # originals old enough to be looked at
    # ready / failed / skipped / ignored, or busy / error (tried again next run)
    outcomes: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"dead_letters": self.dead_letters, "dead_letters_done": self.dead_letters_done,
                "dead_letters_kept": self.dead_letters_kept, "originals_seen": self.originals_seen,
                "outcomes": dict(sorted(self.outcomes.items()))}


class Reconciler:
    def __init__(self, processor: Processor, s3: Any, sqs: Any, *, uploads_bucket: str, dlq_url: str,
                 retry_after_s: int = 60,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.processor = processor
        self.s3 = s3
        self.sqs = sqs
        self.uploads_bucket = uploads_bucket
        self.dlq_url = dlq_url
        self.retry_after_s = retry_after_s  # a kept dead letter is visible again after this
        self.now = now

    def run(self, *, min_age_s: float = 120, max_age_s: float = 7 * 86400, limit: int = 1000) -> Report:
        report = Report()
        if self.dlq_url:
            self.drain_dead_letters(report, limit=limit)
        self.redrive_originals(report, min_age_s=min_age_s, max_age_s=max_age_s, limit=limit)
        log.info("reconciled", extra=report.as_dict())
        return report

    # ---- the dead-letter queue ---------------------------------------------------------

    def drain_dead_letters(self, report: Report, *, limit: int) -> None:
        seen: set[str] = set()
        while report.dead_letters < limit:
            reply = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10,
                                             WaitTimeSeconds=0, VisibilityTimeout=120)
            messages = reply.get("Messages", [])
            if not messages:
                return
            for message in messages:
                if message["MessageId"] in seen:
                    # Kept earlier in this run and already visible again: the queue has come
                    # round, so this run is done. Receiving it hid it again: undo that.
                    self._keep(message)
                    return
                seen.add(message["MessageId"])
                report.dead_letters += 1
                if self._redrive_message(message, report):
                    self.sqs.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"])
                    report.dead_letters_done += 1
                else:
                    self._keep(message)
                    report.dead_letters_kept += 1

    def _keep(self, message: dict[str, Any]) -> None:
        self.sqs.change_message_visibility(QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"],
                                           VisibilityTimeout=self.retry_after_s)

    def _redrive_message(self, message: dict[str, Any], report: Report) -> bool:
        try:
            record = json.loads(message.get("Body") or "")
            payload = record.get("requestPayload", record)
            targets = s3_records(payload if isinstance(payload, dict) else {})
        except (ValueError, AttributeError, KeyError, TypeError):
            log.warning("dead letter that is not an S3 event record", extra={"id": message["MessageId"]})
            report.outcomes["unreadable"] += 1
            return True  # nothing to re-drive, and keeping it would only repeat this
        return all(self._process(bucket, key, report) for bucket, key in targets)

    # ---- originals that never made it ----------------------------------------------------

    def redrive_originals(self, report: Report, *, min_age_s: float, max_age_s: float, limit: int) -> None:
        now = self.now()
        for obj in self._originals():
            if report.originals_seen >= limit:
                return
            age = (now - obj["LastModified"]).total_seconds()
            if min_age_s <= age <= max_age_s:
                report.originals_seen += 1
                self._process(self.uploads_bucket, obj["Key"], report)

    def _originals(self) -> Iterator[dict[str, Any]]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.uploads_bucket,
                                                                  Prefix=ORIGINALS_PREFIX)
        for page in pages:
            yield from page.get("Contents", [])

    def _process(self, bucket: str, key: str, report: Report) -> bool:
        """True when the object reached a final state (or is not a photo of ours)."""
        try:
            outcome = self.processor.process(bucket, key)
        except WorkInProgressError:
            report.outcomes["busy"] += 1
            return False
        except Exception as exc:
            # The cause (sidecar, S3, Redis) is still there: the next run tries again.
            log.warning("re-drive failed", extra={"key": key, "error": f"{type(exc).__name__}: {exc}"})
            report.outcomes["error"] += 1
            return False
        report.outcomes[outcome.status.value] += 1
        return True
