"""The storage check: no photo stays ``ready`` when its objects are gone from S3.

PostgreSQL (the sidecar's ``photos`` schema) and S3 (LocalStack) are separate stores; a lost S3
state, a bucket emptied by hand or a restore from an older backup leaves photos that the
database lists as ``ready`` while their original or a derivative no longer exists: browsing
them shows broken images, buying them sells nothing. ``make up`` runs this check after
LocalStack and the stack are up, and it can be run at any time:

    make check-storage                      (or: .venv/bin/python -m infra.storage_check)
    photostack admin check-storage [--dry-run] [--json]

Every ``ready`` photo's original (uploads bucket) and derivatives (derivatives bucket) are
looked up in one listing of each bucket, taken after the photos were read: a photo's objects
are written before it becomes ready, so a listing that lacks one means it is gone.

A photo whose original is still there and only derivatives are gone is rebuilt: the reconcile
function (the upload path's re-drive, functions/upload/upload/reconcile.py) renders its
derivatives again from that original, after checking that its ETag and SHA-256 are the ones
the photo was registered with, and the photo stays ``ready`` with the same keys. It is not
put back to ``pending`` meanwhile: a pending photo hides a photo buyers paid for, and a
pending photo's owner can be handed a new upload URL for its original (an idempotent
ReservePhoto replay), so the original that was sold could be replaced. A rebuild is idempotent
(the same objects written again; the sidecar accepts the same registration twice and changes
nothing). A photo that cannot be rebuilt (the original changed or is unreadable) is failed as
below; one whose rebuild hit an outage (S3, the sidecar, Redis, the function) is left as it
is and named in the report, for the next check.

A photo whose original is gone, or that cannot be rebuilt, is marked ``failed`` with a reason naming
what is gone by the photo sidecar, which owns the photo rules (``MarkLostBatch``, ``MarkLost`` for
up to 500 photos in one transaction: only a photo still ready changes, under its row lock, and the
sidecar's cache forgets it and its event so that no reader keeps seeing it ``ready``); the check
calls it with the operator's Connect certificate (``photostack-operator``, which `make up` issues),
found through Consul as the functions find the sidecar. It says what it found in one line.

A bucket that does not exist at all is not taken as "every object lost": the check refuses to
act (exit 2) — the stack is not deployed, or it looks at the wrong endpoint.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from photostack import config, contract

from infra.consul.acl import DEFAULT_STATE as DEFAULT_CONSUL_STATE
from infra.consul.acl import OPERATOR

ROOT = Path(__file__).resolve().parents[1]
MAX_LISTED = 8  # photo ids named in the summary line
CONSUL_ADDR = "127.0.0.1:8500"  # the dev agent `make up` starts (PHOTOSTACK_CONSUL_ADDR overrides)
SIDECAR_DEADLINE_S = 10.0
# Photos per MarkLostBatch call: the sidecar's most (sidecar/service.py MAX_LOST_PER_CALL). One
# call a photo marked 239 photos/s, batches of 500 3,966 photos/s (one run, same sidecar): a batch
# is one transaction, one UPDATE and one cache round trip.
MARK_BATCH = 500
# Photos per rebuild call of the reconcile function (its MAX_REBUILDS_PER_CALL).
REBUILD_BATCH = 25
RECONCILE_FUNCTION = "photostack-reconcile"


@dataclass(frozen=True)
class ReadyPhoto:
    photo_id: str
    event_id: str
    original_key: str
    derivative_keys: tuple[str, ...]
    sha256: str = ""  # what the photo was registered with: a rebuild must read the same original
    original_etag: str = ""


@dataclass(frozen=True)
class Loss:
    photo_id: str
    event_id: str
    missing: tuple[str, ...]  # s3://bucket/key of each missing object
    original_missing: bool
    not_rebuilt: str = ""  # only derivatives gone, and why a rebuild from the original failed

    @property
    def reason(self) -> str:
        """What the photo's ``failure_reason`` says: what is gone, with the first object named."""
        derivatives = len(self.missing) - int(self.original_missing)
        if self.original_missing:
            more = f" and {derivatives} derivative(s)" if derivatives else ""
            return f"lost from storage: the original {self.missing[0]}{more}"[:500]
        why = f"; not rebuilt: {self.not_rebuilt}" if self.not_rebuilt else ""
        return f"lost from storage: {derivatives} derivative(s), first {self.missing[0]}{why}"[:500]


@dataclass
class Report:
    checked: int = 0
    losses: list[Loss] = field(default_factory=list)
    marked_failed: int = 0
    dry_run: bool = False
    rebuilt: list[str] = field(default_factory=list)  # photo ids ready again, derivatives rewritten
    not_rebuilt: list[str] = field(default_factory=list)  # left ready after an outage: next check

    def summary(self) -> str:
        if not self.losses:
            return f"storage check: {self.checked} ready photos checked, all objects present"
        originals = sum(1 for x in self.losses if x.original_missing)
        only_derivatives = len(self.losses) - originals
        if self.dry_run:
            action = (f"would rebuild {only_derivatives} from their originals and mark {originals} failed"
                      " (dry run)")
        else:
            action = f"{len(self.rebuilt)} rebuilt from their originals, {self.marked_failed} marked failed"
            if self.not_rebuilt:
                action += (f", {len(self.not_rebuilt)} not rebuilt (an outage; left as they are for the"
                           f" next check: {', '.join(self.not_rebuilt[:MAX_LISTED])})")
        ids = ", ".join(x.photo_id for x in self.losses[:MAX_LISTED])
        more = f" and {len(self.losses) - MAX_LISTED} more" if len(self.losses) > MAX_LISTED else ""
        return (f"storage check: {self.checked} ready photos checked, {len(self.losses)} with objects "
                f"missing ({originals} originals, {only_derivatives} only derivatives) -> {action}: "
                f"{ids}{more}")

    def as_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "missing": len(self.losses), "marked_failed": self.marked_failed,
                "rebuilt": self.rebuilt, "not_rebuilt": self.not_rebuilt, "dry_run": self.dry_run,
                "losses": [{"photo_id": x.photo_id, "event_id": x.event_id, "missing": list(x.missing),
                            "reason": x.reason} for x in self.losses]}


def find_losses(photos: Iterable[ReadyPhoto], *, uploads_bucket: str, derivatives_bucket: str,
                listed: dict[str, set[str]]) -> list[Loss]:
    """The photos with an object that its bucket's listing lacks."""
    losses = []
    for photo in photos:
        wanted = [(uploads_bucket, photo.original_key)]
        wanted += [(derivatives_bucket, k) for k in photo.derivative_keys]
        gone = [(b, k) for b, k in wanted if k not in listed[b]]
        if gone:
            losses.append(Loss(photo.photo_id, photo.event_id, tuple(f"s3://{b}/{k}" for b, k in gone),
                               original_missing=gone[0] == wanted[0]))
    return losses


# ---- adapters ---------------------------------------------------------------------------------


class BucketMissing(Exception):
    pass


class SidecarUnavailable(Exception):
    """The photo sidecar cannot be called (no operator certificate, or it does not answer)."""


def s3_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 3}))


def list_keys(s3: Any, bucket: str) -> set[str]:
    import botocore.exceptions

    keys: set[str] = set()
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys.update(obj["Key"] for obj in page.get("Contents", []))
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
            raise BucketMissing(bucket) from exc
        raise
    return keys


def load_ready_photos(conn: Any, event_id: str | None = None) -> list[ReadyPhoto]:
    with conn.cursor() as cur:
        cur.execute("SELECT p.id::text, p.event_id::text, p.original_key,"
                    " coalesce(array_agg(d.key ORDER BY d.kind) FILTER (WHERE d.key IS NOT NULL), '{}'),"
                    " coalesce(p.sha256, ''), coalesce(p.original_etag, '')"
                    " FROM photos.photos p LEFT JOIN photos.derivatives d ON d.photo_id = p.id"
                    " WHERE p.status = %(ready)s"
                    " AND (%(event)s::uuid IS NULL OR p.event_id = %(event)s::uuid)"
                    " GROUP BY p.id ORDER BY p.id", {"event": event_id, "ready": contract.READY})
        return [ReadyPhoto(r[0], r[1], r[2], tuple(r[3]), r[4], r[5]) for r in cur.fetchall()]


def operator_client(settings: Any, consul_state: Path = DEFAULT_CONSUL_STATE) -> Any:
    """The photo sidecar's client as the operator (its Consul token, from `make up`)."""
    from photostack.discovery import ServiceResolver
    from photostack.photo_client import PhotoClient
    from photostack.rpc.connect import ConnectAgent, ConnectIdentity

    token_file = consul_state / "tokens" / f"{OPERATOR}.token"
    if not token_file.is_file():
        raise SidecarUnavailable(f"no operator token at {token_file} (run make up)")
    token = token_file.read_text().strip()
    consul_addr = settings.consul_addr or CONSUL_ADDR
    resolver = ServiceResolver(settings.sidecar_service, consul_addr=consul_addr, static_addr="", token=token)
    return PhotoClient(resolver, deadline_s=SIDECAR_DEADLINE_S,
                       identity=ConnectIdentity(ConnectAgent(consul_addr, token), OPERATOR))


def mark_lost(client: Any, losses: Sequence[Loss], *, batch: int = MARK_BATCH) -> list[Loss]:
    """Asks the sidecar to mark each photo failed if it is still ready, ``batch`` photos a call
    (``MarkLostBatch``, one transaction each); returns those it changed (failed now with this
    check's reason: one that became failed otherwise meanwhile is not, and one deleted since it
    was read is absent from the sidecar's answer)."""
    from photostack.errors import ApiError
    from photostack.photo.v1 import photo_pb2 as pb

    changed = []
    for start in range(0, len(losses), batch):
        chunk = losses[start:start + batch]
        request = pb.MarkLostBatchRequest(
            photos=[pb.MarkLostRequest(photo_id=x.photo_id, reason=x.reason) for x in chunk])
        try:
            answer = client.mark_lost_batch(request)
        except ApiError as exc:
            raise SidecarUnavailable(f"the photo sidecar refused MarkLostBatch: {exc}") from exc
        now = {p.id: p for p in answer.photos}
        for loss in chunk:
            photo = now.get(loss.photo_id)
            if photo is not None and photo.status == pb.PHOTO_STATUS_FAILED \
                    and photo.failure_reason == loss.reason:
                changed.append(loss)
    return changed


def lambda_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(read_timeout=330, retries={"max_attempts": 0}))


def rebuild(client: Any, photos: Sequence[ReadyPhoto], *,
            batch: int = REBUILD_BATCH) -> dict[str, tuple[str, str]]:
    """Asks the reconcile function to rebuild each photo's derivatives from its original,
    ``batch`` photos a call; (status, reason) per photo id: ready (rebuilt), failed (cannot be),
    skipped (no longer ready), ignored, or error (an outage: S3, the sidecar, Redis, or the
    function itself could not be called)."""
    import datetime as dt

    answers: dict[str, tuple[str, str]] = {}
    for start in range(0, len(photos), batch):
        chunk = photos[start:start + batch]
        detail = {"rebuild": [{"key": p.original_key, "sha256": p.sha256, "etag": p.original_etag}
                              for p in chunk]}
        # The EventBridge "Scheduled Event" shape the reconcile handler receives (photostack admin redrive).
        event = {"version": "0", "id": "photostack-storage-check", "detail-type": "Scheduled Event",
                 "source": "photostack.storage-check", "account": "000000000000",
                 "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us-east-1",
                 "resources": [], "detail": detail}
        try:
            reply = client.invoke(FunctionName=RECONCILE_FUNCTION, Payload=json.dumps(event).encode())
            body = json.loads(reply["Payload"].read() or b"null")
            if reply.get("FunctionError") or not isinstance(body, dict):
                raise RuntimeError(str(body.get("errorMessage") if isinstance(body, dict) else body)[:300])
            by_key = {a["key"]: (a["status"], a["reason"]) for a in body["rebuilt"]}
        except Exception as exc:
            by_key = {}
            error = f"{RECONCILE_FUNCTION} not invoked: {type(exc).__name__}: {exc}"[:300]
            print(f"storage check: {error}", file=sys.stderr)
        for photo in chunk:
            answers[photo.photo_id] = by_key.get(photo.original_key, ("error", "no answer"))
    return answers


def settle(losses: Sequence[Loss], answers: dict[str, tuple[str, str]],
           report: Report) -> list[Loss]:
    """The losses to mark failed: every lost original, and each photo whose rebuild answered
    that it cannot be done (with why in its reason); rebuilt photos and those an outage kept
    from being rebuilt go into the report instead."""
    lost = []
    for loss in losses:
        if loss.original_missing:
            lost.append(loss)
            continue
        status, why = answers.get(loss.photo_id, ("error", "not asked"))
        if status == contract.READY:
            report.rebuilt.append(loss.photo_id)
        elif status == "error":
            report.not_rebuilt.append(loss.photo_id)
        else:
            lost.append(replace(loss, not_rebuilt=why or status))
    return lost


def stack_endpoint_and_buckets(settings: Any) -> tuple[str, str, str]:
    outputs: dict[str, Any] = {}
    path = ROOT / ".state" / "stack-outputs.json"
    if path.exists():
        outputs = json.loads(path.read_text())
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or outputs.get("Endpoint") or "http://127.0.0.1:4566"
    uploads = outputs.get("UploadsBucketName") or settings.uploads_bucket
    derivatives = outputs.get("DerivativesBucketName") or settings.derivatives_bucket
    return str(endpoint), str(uploads), str(derivatives)


def run(*, dry_run: bool = False, event_id: str | None = None) -> Report:
    import psycopg2

    settings = config.get_settings()
    endpoint, uploads, derivatives = stack_endpoint_and_buckets(settings)
    s3 = s3_client(endpoint)
    conn = psycopg2.connect(settings.database_url)
    try:
        photos = load_ready_photos(conn, event_id)
        listed = {uploads: list_keys(s3, uploads), derivatives: list_keys(s3, derivatives)}
        losses = find_losses(photos, uploads_bucket=uploads, derivatives_bucket=derivatives, listed=listed)
        report = Report(checked=len(photos), losses=losses, dry_run=dry_run)
        if losses and not dry_run:
            by_id = {p.photo_id: p for p in photos}
            rebuildable = [by_id[x.photo_id] for x in losses if not x.original_missing]
            answers = rebuild(lambda_client(endpoint), rebuildable) if rebuildable else {}
            lost = settle(losses, answers, report)
            if lost:
                report.marked_failed = len(mark_lost(operator_client(settings), lost))
    finally:
        conn.close()
    return report


def logs_to_stderr() -> None:
    """The report is this tool's stdout (``--json`` is parsed by ``photostack admin``); the layer's
    JSON log lines, which go to stdout for Lambda, go to stderr here."""
    from photostack.jsonlog import get_logger

    get_logger("storage_check")  # sets up the layer's handler if nothing has yet
    for handler in logging.getLogger("photostack").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="storage_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="report, change nothing")
    parser.add_argument("--json", action="store_true", help="the whole report as JSON")
    parser.add_argument("--event", metavar="EVENT_ID", type=uuid.UUID, help="only this event's photos")
    args = parser.parse_args(argv)
    logs_to_stderr()
    try:
        report = run(dry_run=args.dry_run, event_id=str(args.event) if args.event else None)
    except BucketMissing as exc:
        print(f"storage check: bucket {exc} does not exist; not checking (is the stack deployed?)",
              file=sys.stderr)
        return 2
    except SidecarUnavailable as exc:
        print(f"storage check: {exc}; photos with lost objects were not marked", file=sys.stderr)
        return 1
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.summary())
    return 0


if __name__ == "__main__":  # python -m infra.storage_check, from the repository root
    raise SystemExit(main())
