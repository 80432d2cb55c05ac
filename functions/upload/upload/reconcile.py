"""Re-drive what fell through the upload path, so every photo ends ``ready`` or ``failed``.

Two sources of stuck photos, both worked through the same :class:`UploadProcessor` (and so the
same exactly-once work claims) as the S3 trigger:

- **The upload dead-letter queue.** An S3 event whose three async attempts all failed (the
  sidecar, Redis or S3 was away for longer) lands there as Lambda's on-failure record, with
  the original event under ``requestPayload``. Each record is processed again; a message is
  deleted once its work is done (ready, failed with a reason, or skipped), and kept for the
  next run while the cause persists.
- **Originals whose event never arrived**, or arrived while nothing could process it: the
  sidecar lists the photos still ``pending`` and untouched for ``min_age_s`` (oldest first), and
  each whose original is in the bucket is handed to the processor. The work is bounded by what
  is stuck, not by the bucket: a scan of ``originals/`` in key order reached only the first
  ``limit`` originals of a large bucket and never a newer photo whose key sorted after them.
  Without the sidecar's listing (``reservations`` not given) the bucket is scanned: every
  original uploaded between ``min_age_s`` and ``max_age_s`` ago, the processor skipping
  photos already ``ready``/``failed`` after one status lookup.
- **Reservations whose bytes never came.** A photo reserved (upload URLs handed out) whose
  original is still not in the bucket once the URLs expired plus a grace
  (``reservation_expiry_s``) can no longer receive one: the sidecar, which decides photo
  states, expires it (``failed`` with the reason). Its original is looked up first: one that
  is there is left to the re-drive above, and when S3 cannot say, nothing is expired. A
  multipart upload started for it and never completed is aborted once it is expired (its parts
  are stored, and billed, until then); the uploads bucket's lifecycle rule
  (AbortIncompleteMultipartUpload, template.yaml) is the backstop when that abort fails.

- **The face-index dead-letter queue.** A photo-ready notice the face-index function failed on
  ``maxReceiveCount`` times (an outage, an OOM-killed batch) lands there, and its photo would
  never be searchable by face or bib. Each notice is sent back to the index queue, unless its
  photo no longer exists or is no longer ready (dropped: the indexer would skip it anyway), or it
  was sent back ``MAX_INDEX_REDRIVES`` times already (a notice that fails every time: parked in
  the dead-letter queue for an operator, hidden ``PARK_S`` between runs, logged as an error).
  Both dead-letter queues go through one loop (:meth:`Reconciler.drain`), bounded by ``limit``.

- **Ready photos whose derivatives are gone** (the storage check, infra/storage_check.py, found
  them while their original is still there): :meth:`Reconciler.rebuild` writes them again from
  the original the photo was registered with (:meth:`UploadProcessor.rebuild`).

Runs on a schedule (template.yaml) and on demand (``photostack admin redrive``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from photostack.contract import ORIGINALS_PREFIX
from photostack.jsonlog import get_logger

from upload.errors import WorkInProgressError
from upload.pipeline import ProcessResult, Status
from upload.ports import IdleReservation, PhotoStatus
from upload.records import s3_records

log = get_logger("upload.reconcile")


class Processor(Protocol):
    def process(self, bucket: str, key: str) -> ProcessResult: ...

    def rebuild(self, bucket: str, key: str, *, sha256: str, etag: str = "") -> ProcessResult: ...


class PhotoLookup(Protocol):
    def get_status(self, photo_id: str) -> PhotoStatus | None: ...


class Reservations(Protocol):
    def idle_reservations(self, idle_s: int, *, event_id: str, limit: int) -> list[IdleReservation]: ...

    def expire_reservation(self, photo_id: str, idle_s: int) -> PhotoStatus | None: ...


# Photos per rebuild call: each renders one original (well under a second for a camera JPEG),
# so a call stays far inside the function's 300 s.
MAX_REBUILDS_PER_CALL = 25

# How often one index notice is sent back from the dead-letter queue: each time the indexer
# tries it maxReceiveCount (4) times, so a notice that fails for a reason of its own is not
# tried forever; one that outlived an outage needs one.
MAX_INDEX_REDRIVES = 3
REDRIVES_ATTRIBUTE = "photostack-redrives"
PARK_S = 12 * 3600  # SQS's longest visibility: a parked notice costs a run one receive twice a day


class Verdict(Enum):
    DONE = "done"  # deleted from the dead-letter queue: redriven, finished or nothing to do
    RETRY = "retry"  # the cause persists: visible again after retry_after_s
    PARK = "park"  # given up on: left in the dead-letter queue for an operator


@dataclass(frozen=True)
class RebuildRequest:
    """A ready photo to rebuild: its original's key and what its row records of that original."""

    key: str
    sha256: str
    etag: str = ""


def rebuild_requests(raw: Any) -> list[RebuildRequest]:
    """The rebuild list, each entry checked: a malformed one raises (the caller is an operator tool)."""
    if not isinstance(raw, list) or len(raw) > MAX_REBUILDS_PER_CALL:
        raise ValueError(f"rebuild must be a list of at most {MAX_REBUILDS_PER_CALL} photos")
    requests = []
    for entry in raw:
        fields = entry if isinstance(entry, dict) else {}
        key, sha256, etag = (fields.get(name, "") for name in ("key", "sha256", "etag"))
        if not (isinstance(key, str) and key and isinstance(sha256, str) and len(sha256) == 64
                and isinstance(etag, str)):
            raise ValueError("each photo to rebuild needs its original's key, sha256 (hex) and etag")
        requests.append(RebuildRequest(key, sha256, etag))
    return requests


@dataclass
class Report:
    dead_letters: int = 0  # messages read from the DLQ
    dead_letters_done: int = 0  # deleted: their photos reached a final state (or were not ours)
    dead_letters_kept: int = 0  # still failing: left for the next run
    originals_seen: int = 0  # originals old enough to be looked at
    reservations_idle: int = 0  # pending photos nobody uploaded to for the expiry time
    reservations_expired: int = 0  # of those, failed now: their original never came
    reservations_kept: int = 0  # their original is there after all, or they were renewed meanwhile
    multipart_aborted: int = 0  # uploads started for expired reservations, never completed
    index_dead_letters: int = 0  # face-index notices read from its DLQ
    index_redriven: int = 0  # sent back to the index queue
    index_dropped: int = 0  # deleted: photo gone or not ready, or not a notice
    index_kept: int = 0  # photo status or send failed: left for the next run
    index_parked: int = 0  # sent back MAX_INDEX_REDRIVES times already: left for an operator
    # ready / failed / skipped / ignored, or busy / error (tried again next run)
    outcomes: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"dead_letters": self.dead_letters, "dead_letters_done": self.dead_letters_done,
                "dead_letters_kept": self.dead_letters_kept, "originals_seen": self.originals_seen,
                "reservations_idle": self.reservations_idle,
                "reservations_expired": self.reservations_expired,
                "reservations_kept": self.reservations_kept, "multipart_aborted": self.multipart_aborted,
                "index_dead_letters": self.index_dead_letters, "index_redriven": self.index_redriven,
                "index_dropped": self.index_dropped, "index_kept": self.index_kept,
                "index_parked": self.index_parked,
                "outcomes": dict(sorted(self.outcomes.items()))}


class Reconciler:
    def __init__(self, processor: Processor, s3: Any, sqs: Any, *, uploads_bucket: str, dlq_url: str,
                 retry_after_s: int = 60, reservations: Reservations | None = None,
                 reservation_expiry_s: int = 900, index_queue_url: str = "", index_dlq_url: str = "",
                 photos: PhotoLookup | None = None,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.processor = processor
        self.reservations = reservations
        self.reservation_expiry_s = reservation_expiry_s
        self.s3 = s3
        self.sqs = sqs
        self.uploads_bucket = uploads_bucket
        self.dlq_url = dlq_url
        self.retry_after_s = retry_after_s  # a kept dead letter is visible again after this
        self.index_queue_url = index_queue_url
        self.index_dlq_url = index_dlq_url
        self.photos = photos  # the ready check of an index notice; None: left to the indexer
        self.now = now

    def run(self, *, min_age_s: float = 120, max_age_s: float = 7 * 86400, limit: int = 1000,
            expire_after_s: int | None = None, event_id: str = "") -> Report:
        """``expire_after_s`` / ``event_id``: an operator's (or a test's) shorter expiry, and
        the one event whose reservations it applies to ("" = all)."""
        report = Report()
        if self.dlq_url:
            self.drain_dead_letters(report, limit=limit)
        if self.index_dlq_url and self.index_queue_url:
            self.redrive_index_notices(report, limit=limit)
        self.redrive_originals(report, min_age_s=min_age_s, max_age_s=max_age_s, limit=limit)
        if self.reservations is not None:
            self.expire_reservations(report, idle_s=expire_after_s or self.reservation_expiry_s,
                                     event_id=event_id, limit=limit)
        log.info("reconciled", extra=report.as_dict())
        return report

    def rebuild(self, requests: list[RebuildRequest]) -> list[dict[str, str]]:
        """Each photo's derivatives written again from its original, in order: its photo id,
        status (ready: rebuilt; failed: cannot be, with the reason; skipped: no longer ready;
        ignored: not ours; error: S3, the sidecar or Redis failed, try again later)."""
        if len(requests) > MAX_REBUILDS_PER_CALL:
            raise ValueError(f"at most {MAX_REBUILDS_PER_CALL} photos per rebuild call, got {len(requests)}")
        answers = []
        for request in requests:
            try:
                outcome = self.processor.rebuild(self.uploads_bucket, request.key, sha256=request.sha256,
                                                 etag=request.etag)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("rebuild failed", extra={"key": request.key, "error": error})
                answers.append({"key": request.key, "photo_id": "", "status": "error", "reason": error})
                continue
            answers.append({"key": request.key, "photo_id": outcome.photo_id or "",
                            "status": outcome.status.value, "reason": outcome.reason})
        log.info("rebuilt", extra={"requested": len(requests),
                                   "rebuilt": sum(a["status"] == Status.READY.value for a in answers)})
        return answers

    # ---- the dead-letter queue ---------------------------------------------------------

    def drain_dead_letters(self, report: Report, *, limit: int) -> None:
        def redrive(message: dict[str, Any]) -> Verdict:
            report.dead_letters += 1
            if self._redrive_message(message, report):
                report.dead_letters_done += 1
                return Verdict.DONE
            report.dead_letters_kept += 1
            return Verdict.RETRY

        self.drain(self.dlq_url, redrive, limit=limit)

    def drain(self, queue_url: str, handle: Callable[[dict[str, Any]], Verdict], *, limit: int) -> int:
        """Hands each message of a dead-letter queue to ``handle`` once, at most ``limit`` of them,
        and deletes it, keeps it for the next run or parks it as told; how many were handled."""
        seen: set[str] = set()
        handled = 0
        while handled < limit:
            reply = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=min(10, limit - handled),
                                             WaitTimeSeconds=0, VisibilityTimeout=120,
                                             MessageAttributeNames=[REDRIVES_ATTRIBUTE])
            messages = reply.get("Messages", [])
            if not messages:
                return handled
            for message in messages:
                if message["MessageId"] in seen:
                    # Kept earlier in this run and already visible again: the queue has come
                    # round, so this run is done. Receiving it hid it again: undo that.
                    self._keep(queue_url, message, self.retry_after_s)
                    return handled
                seen.add(message["MessageId"])
                handled += 1
                verdict = handle(message)
                if verdict is Verdict.DONE:
                    self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                else:
                    self._keep(queue_url, message, PARK_S if verdict is Verdict.PARK else self.retry_after_s)
        return handled

    def _keep(self, queue_url: str, message: dict[str, Any], hidden_s: int) -> None:
        self.sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"],
                                           VisibilityTimeout=hidden_s)

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

    # ---- the face-index dead-letter queue ------------------------------------------------

    def redrive_index_notices(self, report: Report, *, limit: int) -> None:
        def redrive(message: dict[str, Any]) -> Verdict:
            report.index_dead_letters += 1
            verdict, outcome = self._redrive_index_notice(message)
            setattr(report, outcome, getattr(report, outcome) + 1)
            return verdict

        self.drain(self.index_dlq_url, redrive, limit=limit)

    def _redrive_index_notice(self, message: dict[str, Any]) -> tuple[Verdict, str]:
        """What to do with one dead index notice, and which of the report's counts it adds to."""
        body = message.get("Body") or ""
        try:
            notice = json.loads(body)
            photo_id = notice["photo_id"]
            if not (isinstance(photo_id, str) and photo_id):
                raise TypeError("photo_id")
        except (ValueError, KeyError, TypeError):
            # The indexer drops these too (BadNotice): sending it back would only repeat that.
            log.warning("dead index notice that is not a photo-ready notice; dropped",
                        extra={"id": message["MessageId"], "body": body[:200]})
            return Verdict.DONE, "index_dropped"
        attribute = message.get("MessageAttributes", {}).get(REDRIVES_ATTRIBUTE, {})
        try:
            redrives = int(attribute.get("StringValue", "0"))
        except ValueError:
            redrives = 0
        if redrives >= MAX_INDEX_REDRIVES:
            log.error("index notice failed after every redrive; left in the dead-letter queue",
                      extra={"photo_id": photo_id, "redrives": redrives})
            return Verdict.PARK, "index_parked"
        if self.photos is not None:
            try:
                status = self.photos.get_status(photo_id)
            except Exception as exc:
                log.warning("photo of a dead index notice not looked up",
                            extra={"photo_id": photo_id, "error": f"{type(exc).__name__}: {exc}"})
                return Verdict.RETRY, "index_kept"
            if status is not PhotoStatus.READY:
                # Gone or failed: the indexer would only skip it (one sidecar call each time).
                log.info("dead index notice dropped", extra={"photo_id": photo_id,
                                                            "status": status or "deleted"})
                return Verdict.DONE, "index_dropped"
        try:
            self.sqs.send_message(QueueUrl=self.index_queue_url, MessageBody=body, MessageAttributes={
                REDRIVES_ATTRIBUTE: {"DataType": "Number", "StringValue": str(redrives + 1)}})
        except Exception as exc:
            log.warning("dead index notice not sent back", extra={"photo_id": photo_id,
                                                                  "error": f"{type(exc).__name__}: {exc}"})
            return Verdict.RETRY, "index_kept"
        log.info("index notice redriven", extra={"photo_id": photo_id, "redrives": redrives + 1})
        return Verdict.DONE, "index_redriven"

    # ---- originals that never made it ----------------------------------------------------

    def redrive_originals(self, report: Report, *, min_age_s: float, max_age_s: float, limit: int) -> None:
        if self.reservations is not None:
            self._redrive_pending(report, min_age_s=min_age_s, limit=limit)
            return
        now = self.now()
        for obj in self._originals():
            if report.originals_seen >= limit:
                return
            age = (now - obj["LastModified"]).total_seconds()
            if min_age_s <= age <= max_age_s:
                report.originals_seen += 1
                self._process(self.uploads_bucket, obj["Key"], report)

    def _redrive_pending(self, report: Report, *, min_age_s: float, limit: int) -> None:
        assert self.reservations is not None
        try:
            stuck = self.reservations.idle_reservations(max(1, int(min_age_s)), event_id="", limit=limit)
        except Exception as exc:
            log.warning("pending photos not listed", extra={"error": f"{type(exc).__name__}: {exc}"})
            report.outcomes["error"] += 1
            return
        for photo in stuck:
            try:
                arrived = self._original_exists(photo.original_key)
            except Exception as exc:
                log.warning("original not looked up", extra={"photo_id": photo.photo_id,
                                                             "error": f"{type(exc).__name__}: {exc}"})
                report.outcomes["error"] += 1
                continue
            if arrived:  # one that did not is the expiry's (below), once its URLs are dead
                report.originals_seen += 1
                self._process(self.uploads_bucket, photo.original_key, report)

    def _originals(self) -> Iterator[dict[str, Any]]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.uploads_bucket,
                                                                  Prefix=ORIGINALS_PREFIX)
        for page in pages:
            yield from page.get("Contents", [])

    # ---- reservations whose bytes never came -------------------------------------------

    def expire_reservations(self, report: Report, *, idle_s: int, event_id: str, limit: int) -> None:
        assert self.reservations is not None
        try:
            idle = self.reservations.idle_reservations(idle_s, event_id=event_id, limit=limit)
        except Exception as exc:
            log.warning("idle reservations not listed", extra={"error": f"{type(exc).__name__}: {exc}"})
            report.outcomes["error"] += 1
            return
        for reservation in idle:
            report.reservations_idle += 1
            try:
                status = None if self._original_exists(reservation.original_key) else \
                    self.reservations.expire_reservation(reservation.photo_id, idle_s)
            except Exception as exc:
                log.warning("reservation not expired", extra={"photo_id": reservation.photo_id,
                                                              "error": f"{type(exc).__name__}: {exc}"})
                report.outcomes["error"] += 1
                continue
            if status is PhotoStatus.FAILED:
                report.reservations_expired += 1
                log.info("reservation expired", extra={"photo_id": reservation.photo_id, "idle_s": idle_s})
                report.multipart_aborted += self._abort_multipart(reservation)
            else:
                report.reservations_kept += 1

    def _abort_multipart(self, reservation: IdleReservation) -> int:
        """Aborts the multipart uploads open for an expired reservation's key (only after it is
        failed: a renewed reservation's upload is in use); how many. An S3 error is logged, not
        raised: the photo is expired either way, and the bucket's lifecycle rule aborts the
        upload later."""
        aborted = 0
        try:
            pages = self.s3.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.uploads_bucket, Prefix=reservation.original_key)
            for page in pages:
                for upload in page.get("Uploads", []):
                    if upload["Key"] != reservation.original_key:  # a longer key with this prefix
                        continue
                    self.s3.abort_multipart_upload(Bucket=self.uploads_bucket, Key=upload["Key"],
                                                   UploadId=upload["UploadId"])
                    aborted += 1
        except Exception as exc:
            log.warning("multipart upload of an expired reservation not aborted",
                        extra={"photo_id": reservation.photo_id, "error": f"{type(exc).__name__}: {exc}"})
        return aborted

    def _original_exists(self, key: str) -> bool:
        """Whether the reservation's original is in the bucket; raises when S3 cannot say."""
        try:
            self.s3.head_object(Bucket=self.uploads_bucket, Key=key)
        except Exception as exc:
            code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

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
