"""S3 and SQS state that survives a LocalStack restart, ``kill -9`` included.

What the community edition (localstack-core 2026.3.0) has and lacks, read from its source:

- ``PERSISTENCE=1``, ``SNAPSHOT_SAVE_STRATEGY`` / ``SNAPSHOT_LOAD_STRATEGY`` (``localstack/config.py``)
  and the state framework (``localstack/state/``: ``StateVisitor``, ``AssetDirectory``,
  ``pickle``, ``snapshot.SnapshotPersistencePlugin``) are there, and the providers implement
  ``accept_state_visitor`` (S3: ``s3_stores`` + its storage root; SQS: ``sqs_stores``). But no
  plugin in the ``localstack.persistence.snapshot`` namespace ships with it, so nothing ever
  saves or loads: with ``PERSISTENCE=1`` the state is still gone after a restart. And a
  snapshot strategy (on shutdown, scheduled) would lose what came after the last snapshot anyway.
- S3 object bytes live in ``EphemeralS3ObjectStore`` (``services/s3/storage/ephemeral.py``):
  spooled temporary files, deleted on close; file names come from ``hash()``, which changes with
  every process. The provider takes the store as a constructor argument
  (``S3Provider(storage_backend=...)``), the one seam for bytes.

What this module does instead, through LocalStack's own extension points:

- Two service providers, ``s3:durable`` and ``sqs:durable`` (entry points in the
  ``localstack.aws.provider`` namespace, chosen with ``PROVIDER_OVERRIDE_S3=durable`` and
  ``PROVIDER_OVERRIDE_SQS=durable``): LocalStack's own ``S3Provider`` and ``SqsProvider``, so the
  API, presigned URLs and S3 event notifications are LocalStack's, unchanged. S3 gets
  ``DurableS3ObjectStore`` (bytes in files, see ``durable_s3_storage``).
- Write-through journal: a response handler of the gateway records, after each successful
  mutating S3 or SQS request and *before the response is sent*, the state that request left —
  the versions of the S3 key (or the whole bucket, for bucket-level calls), the multipart upload,
  the SQS queue with its messages — into an fsynced journal (``durable_journal``). So what was
  acknowledged is on disk, whatever happens to the process next.
- At start (when LocalStack first loads S3 or SQS) the journal is replayed into ``s3_stores`` /
  ``sqs_stores``, then compacted to one record per bucket / queue. Messages that were in flight
  (received, not deleted) come back visible, as after a visibility timeout.

Not kept: receive counts and visibility (``ReceiveMessage`` and ``ChangeMessageVisibility``
are not journaled — a message may be delivered once more after a restart, which SQS allows);
state of other services (Lambda, API Gateway, CloudFormation: ``make up`` deploys them again).

Settings (environment of LocalStack): ``PHOTOSTACK_DURABLE_STATE_DIR`` (where), ``PHOTOSTACK_DURABLE_FSYNC``
(``0``: no fsync — survives ``kill -9`` of LocalStack, not a crash of the machine).
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import queue as stdqueue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from localstack.aws.api import RequestContext
from localstack.constants import AWS_REGION_US_EAST_1
from localstack.http import Response
from localstack.services.plugins import Service, aws_provider
from localstack.services.s3.models import S3Bucket, VersionedKeyStore, s3_stores
from localstack.services.s3.provider import S3Provider
from localstack.services.sqs.models import sqs_stores
from localstack.services.sqs.provider import SqsProvider
from localstack.services.sqs.utils import parse_queue_url

from photostack_localstack_executor.durable_journal import Journal, read_records
from photostack_localstack_executor.durable_s3_storage import DurableS3ObjectStore

LOG = logging.getLogger(__name__)

S3_READS = ("Get", "List", "Head", "Select")
SQS_NOT_JOURNALED = frozenset({"ReceiveMessage", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"})
SQS_READS = ("Get", "List")
RETRIES = 5  # a dict another request is resizing cannot be pickled this instant: read it again
RecordsOf = Callable[[RequestContext], list[tuple[Any, ...]]]
# LocalStack's Lambda keeps function code in this bucket under fresh names on every deploy;
# Lambda's own state is not kept, so after a restart its code would only pile up on disk.
NOT_KEPT_BUCKET_PREFIXES = ("awslambda-",)


def state_dir() -> Path:
    return Path(os.environ.get("PHOTOSTACK_DURABLE_STATE_DIR") or "photostack-durable-state").resolve()


def fsync_enabled() -> bool:
    return os.environ.get("PHOTOSTACK_DURABLE_FSYNC", "1") not in ("0", "false", "no")


# ---- pickling live objects -----------------------------------------------------------------

_LOCK = type(threading.Lock())
_RLOCK = type(threading.RLock())


class _StatePickler(pickle.Pickler):
    """Locks and conditions are pickled as fresh, unlocked ones (another thread may hold them)."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _RLOCK):
            return threading.RLock, ()
        if isinstance(obj, _LOCK):
            return threading.Lock, ()
        if isinstance(obj, threading.Condition):
            return threading.Condition, ()
        return NotImplemented


def dumps(obj: Any) -> bytes:
    for attempt in range(RETRIES):
        buffer = io.BytesIO()
        try:
            _StatePickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
            return buffer.getvalue()
        except RuntimeError:  # "dictionary changed size during iteration"
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def renew_queue_locks(sqs_queue: Any) -> None:
    """Give an unpickled SQS queue locks that belong together again (Queue's conditions share its mutex)."""
    sqs_queue.mutex = threading.RLock()
    for value in vars(sqs_queue).values():
        if isinstance(value, stdqueue.Queue):
            value.mutex = threading.Lock()
            value.not_empty = threading.Condition(value.mutex)
            value.not_full = threading.Condition(value.mutex)
            value.all_tasks_done = threading.Condition(value.mutex)
            value.is_shutdown = False


# ---- the journal handler -----------------------------------------------------------------------


class JournalHandler:
    """Gateway response handler: records what a successful mutating request of one service left."""

    def __init__(self, service: str, journal: Journal, records: RecordsOf) -> None:
        self.service = service
        self.journal = journal
        self.records = records

    def __call__(self, chain: Any, context: RequestContext, response: Response) -> None:
        if context.service is None or context.service.service_name != self.service:
            return
        if context.service_exception is not None or response.status_code >= 300 or context.operation is None:
            return
        with self.journal.lock:  # read and append under one lock: the journal's order is the state's
            for record in self.records(context):
                self.journal.append(dumps(record))


# ---- S3 ------------------------------------------------------------------------------------------


def _s3_store(account_id: str) -> Any:
    return s3_stores[account_id][AWS_REGION_US_EAST_1]


def _tag_id(bucket: str, key: str, version_id: str | None) -> str:
    return f"{bucket}/{key}/{version_id or 'null'}"  # localstack.services.s3.utils.get_unique_key_id


def _key_versions(bucket: S3Bucket, key: str) -> Any:
    if isinstance(bucket.objects, VersionedKeyStore):
        versions = bucket.objects._store.get(key)
        return dict(versions) if versions else None
    return bucket.objects.get(key)


def _version_ids(value: Any) -> list[str | None]:
    if value is None:
        return []
    if isinstance(value, dict):
        return list(value)
    return [value.version_id]


def s3_key_record(account_id: str, bucket: S3Bucket, key: str) -> tuple[Any, ...]:
    value = _key_versions(bucket, key)
    tags = _s3_store(account_id).tags
    key_tags = {v: tags.get_tags(_tag_id(bucket.name, key, v)) for v in _version_ids(value)}
    return ("s3-key", account_id, bucket.name, key, value, {v: t for v, t in key_tags.items() if t})


def s3_bucket_record(account_id: str, name: str) -> tuple[Any, ...]:
    store = _s3_store(account_id)
    bucket = store.buckets.get(name)
    if bucket is None:
        return ("s3-bucket", account_id, name, None, {})
    versions = bucket.objects.values(with_versions=True)
    ids = [bucket.bucket_arn] + [_tag_id(name, o.key, o.version_id) for o in versions]
    tags = {i: t for i in ids if (t := store.tags.get_tags(i))}
    return ("s3-bucket", account_id, name, bucket, tags)


def s3_records(context: RequestContext) -> list[tuple[Any, ...]]:
    operation = context.operation.name if context.operation else ""
    if operation.startswith(S3_READS):
        return []
    request: dict[str, Any] = dict(context.service_request or {})
    name = request.get("Bucket")
    if not name or name.startswith(NOT_KEPT_BUCKET_PREFIXES):
        return []
    store = _s3_store(context.account_id)
    account_id = store.global_bucket_map.get(name, context.account_id)
    bucket = _s3_store(account_id).buckets.get(name)
    if operation == "DeleteObjects" and bucket is not None:
        keys = {o["Key"] for o in (request.get("Delete") or {}).get("Objects") or []}
        return [s3_key_record(account_id, bucket, key) for key in sorted(keys)]
    key = request.get("Key")
    if not key or bucket is None or operation == "PostObject":
        return [s3_bucket_record(account_id, name)]
    records = [s3_key_record(account_id, bucket, key)]
    upload_id = request.get("UploadId") or (context.service_response or {}).get("UploadId")
    if upload_id:
        records.append(("s3-multipart", account_id, name, upload_id, bucket.multiparts.get(upload_id)))
    return records


def apply_s3_record(record: tuple[Any, ...]) -> None:
    kind, account_id = record[0], record[1]
    if record[2].startswith(NOT_KEPT_BUCKET_PREFIXES):
        return  # journaled before such buckets were left out
    store = _s3_store(account_id)
    if kind == "s3-bucket":
        _, _, name, bucket, tags = record
        old = store.buckets.pop(name, None)
        if old is not None:
            for o in old.objects.values(with_versions=True):
                store.tags.delete_all_tags(_tag_id(name, o.key, o.version_id))
            store.tags.delete_all_tags(old.bucket_arn)
        store.global_bucket_map.pop(name, None)
        if bucket is not None:
            store.buckets[name] = bucket
            store.global_bucket_map[name] = account_id
            for tag_id, tag_map in tags.items():
                store.tags.update_tags(tag_id, tag_map)
        return
    bucket = store.buckets.get(record[2])
    if bucket is None:
        return  # the bucket was deleted later; its record comes after this one
    if kind == "s3-multipart":
        _, _, _, upload_id, multipart = record
        if multipart is None:
            bucket.multiparts.pop(upload_id, None)
        else:
            bucket.multiparts[upload_id] = multipart
        return
    _, _, name, key, value, tags = record
    for version_id in _version_ids(_key_versions(bucket, key)):
        store.tags.delete_all_tags(_tag_id(name, key, version_id))
    if isinstance(bucket.objects, VersionedKeyStore):
        if isinstance(value, dict):
            bucket.objects._store[key] = value
        else:
            bucket.objects._store.pop(key, None)
    elif value is None or isinstance(value, dict):
        bucket.objects.pop(key)
    else:
        bucket.objects.set(key, value)
    for version_id, tag_map in tags.items():
        store.tags.update_tags(_tag_id(name, key, version_id), tag_map)


def s3_checkpoint() -> Iterator[bytes]:
    for account_id, region, store in list(s3_stores.iter_stores()):
        if region != AWS_REGION_US_EAST_1:
            continue  # buckets are one dict across the regions of an account
        for name in list(store.buckets):
            yield dumps(s3_bucket_record(account_id, name))


# ---- SQS -----------------------------------------------------------------------------------------


def sqs_queue_record(account_id: str, region: str, name: str) -> tuple[Any, ...]:
    return ("sqs-queue", account_id, region, name, sqs_stores[account_id][region].queues.get(name))


def sqs_records(context: RequestContext) -> list[tuple[Any, ...]]:
    operation = context.operation.name if context.operation else ""
    if operation in SQS_NOT_JOURNALED or operation.startswith(SQS_READS):
        return []
    request: dict[str, Any] = dict(context.service_request or {})
    if operation == "CreateQueue" and request.get("QueueName"):
        return [sqs_queue_record(context.account_id, context.region, request["QueueName"])]
    if url := request.get("QueueUrl"):
        try:
            account_id, region, name = parse_queue_url(url)
        except ValueError:
            return []
        return [sqs_queue_record(account_id, region or context.region, name)]
    store = sqs_stores[context.account_id][context.region]  # e.g. a message move task: every queue
    return [sqs_queue_record(context.account_id, context.region, name) for name in list(store.queues)]


def apply_sqs_record(record: tuple[Any, ...]) -> None:
    _, account_id, region, name, sqs_queue = record
    queues = sqs_stores[account_id][region].queues
    if sqs_queue is None:
        queues.pop(name, None)
    else:
        queues[name] = sqs_queue


def revive_queues() -> int:
    """Fresh locks, and messages in flight when LocalStack stopped made visible; returns the message count."""
    messages = 0
    for _, _, store in sqs_stores.iter_stores():
        for sqs_queue in store.queues.values():
            renew_queue_locks(sqs_queue)
            for message in list(sqs_queue.inflight):
                message.visibility_deadline = 0.0
            sqs_queue.requeue_inflight_messages()
            messages += int(sqs_queue.approximate_number_of_messages)
    return messages


def sqs_checkpoint() -> Iterator[bytes]:
    for account_id, region, store in list(sqs_stores.iter_stores()):
        for name in list(store.queues):
            yield dumps(sqs_queue_record(account_id, region, name))


# ---- restore + install --------------------------------------------------------------------------


def restore(journal: Journal, apply: Callable[[tuple[Any, ...]], None],
            checkpoint: Callable[[], Iterator[bytes]], after: Callable[[], str]) -> None:
    started = time.monotonic()
    replayed = 0
    for payload in read_records(journal.path):
        apply(pickle.loads(payload))  # our own journal, written by this module
        replayed += 1
    summary = after()
    size = journal.rewrite(checkpoint())
    LOG.info("photostack durable state: %s restored from %s (%d journal records, compacted to %d bytes)"
             " in %.2f s", summary, journal.path, replayed, size, time.monotonic() - started)


def install(service: str, journal: Journal, records: RecordsOf) -> None:
    from localstack.aws import handlers

    handlers.run_custom_response_handlers.append(JournalHandler(service, journal, records))  # type: ignore[arg-type]


def _s3_summary() -> str:
    buckets = objects = 0
    for _, region, store in s3_stores.iter_stores():
        if region == AWS_REGION_US_EAST_1:
            buckets += len(store.buckets)
            objects += sum(len(b.objects.values(with_versions=True)) for b in store.buckets.values())
    return f"S3: {buckets} buckets, {objects} object versions"


def _live_s3_files(objects: DurableS3ObjectStore) -> dict[str, tuple[set[str], set[str]]]:
    live = {}
    for _, region, store in s3_stores.iter_stores():
        if region == AWS_REGION_US_EAST_1:
            for name, bucket in store.buckets.items():
                versions = bucket.objects.values(with_versions=True)
                live[name] = ({objects._key_from_s3_object(o) for o in versions}, set(bucket.multiparts))
    return live


class DurableS3Provider(S3Provider):
    def __init__(self) -> None:
        root = state_dir()
        objects = DurableS3ObjectStore(str(root / "s3" / "objects"), fsync=fsync_enabled())
        super().__init__(storage_backend=objects)
        self.journal = Journal(root / "s3" / "journal", fsync=fsync_enabled())
        # Here rather than in on_after_init, whose errors LocalStack logs and swallows: a restore
        # that fails must leave S3 unavailable, not silently empty and forgetful.
        restore(self.journal, apply_s3_record, s3_checkpoint, _s3_summary)
        removed = objects.collect_garbage(_live_s3_files(objects))
        LOG.info("photostack durable state: %d unreferenced S3 files or folders removed", removed)
        self._cors_handler.invalidate_cache()
        install("s3", self.journal, s3_records)


class DurableSqsProvider(SqsProvider):
    def __init__(self) -> None:
        super().__init__()
        self.journal = Journal(state_dir() / "sqs" / "journal", fsync=fsync_enabled())
        restore(self.journal, apply_sqs_record, sqs_checkpoint,
                lambda: f"SQS: {sum(len(s.queues) for _, _, s in sqs_stores.iter_stores())} queues, "
                        f"{revive_queues()} messages")
        install("sqs", self.journal, sqs_records)


@aws_provider(api="s3", name="durable")
def s3_durable() -> Service:
    return Service.for_provider(DurableS3Provider())


@aws_provider(api="sqs", name="durable")
def sqs_durable() -> Service:
    return Service.for_provider(DurableSqsProvider())
