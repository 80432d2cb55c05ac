"""Composition root: the real adapters, built once per warm container and resettable in tests."""

from __future__ import annotations

from typing import Any

import boto3
import redis
from botocore.config import Config
from photostack.config import get_settings
from photostack.photo_client import get_photo_client
from photostack.warm import WarmSlot

from upload.claims import RedisWorkClaims
from upload.config import load_upload_settings
from upload.decode import DecodeLimits
from upload.notify import SqsPhotoReadyNotifier
from upload.pipeline import ProcessResult, UploadLimits, UploadProcessor
from upload.reconcile import RebuildRequest, Reconciler, Report
from upload.records import s3_records
from upload.registry import GrpcPhotoRegistry
from upload.storage import S3ObjectStore


def build_processor() -> UploadProcessor:
    settings = get_settings()
    upload = load_upload_settings()
    # AWS_ENDPOINT_URL (set by LocalStack for its functions) points boto3 at the emulator.
    s3 = boto3.client("s3", config=Config(retries={"max_attempts": 3, "mode": "standard"},
                                          connect_timeout=3, read_timeout=20))
    redis_client = redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    faces_queue = upload.faces_queue_url
    # Short timeouts and one retry: the notice must not hold up the upload for long.
    notifier = SqsPhotoReadyNotifier(
        boto3.client("sqs", config=Config(retries={"max_attempts": 2, "mode": "standard"},
                                          connect_timeout=2, read_timeout=3)),
        faces_queue) if faces_queue else None
    return UploadProcessor(
        S3ObjectStore(s3),
        GrpcPhotoRegistry(get_photo_client()),
        RedisWorkClaims(redis_client, lock_ttl_s=upload.lock_ttl_s, done_ttl_s=upload.done_ttl_s),
        derivatives_bucket=settings.derivatives_bucket,
        limits=UploadLimits(max_bytes=upload.max_bytes, decode=DecodeLimits(max_pixels=upload.max_pixels)),
        notifier=notifier,
    )


_processor: WarmSlot[UploadProcessor] = WarmSlot("upload processor", lambda: build_processor())


def service() -> UploadProcessor:
    return _processor.get()


def reset() -> None:
    """Forget the built processor and reconciler (tests change the environment)."""
    _processor.install(None)
    _reconciler.install(None)


def handle(event: dict[str, Any]) -> list[ProcessResult]:
    processor = service()
    return [processor.process(bucket, key) for bucket, key in s3_records(event)]


def build_reconciler() -> Reconciler:
    settings = get_settings()
    upload = load_upload_settings()
    client_config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3,
                           read_timeout=20)
    registry = GrpcPhotoRegistry(get_photo_client())
    return Reconciler(service(), boto3.client("s3", config=client_config),
                      boto3.client("sqs", config=client_config), uploads_bucket=settings.uploads_bucket,
                      dlq_url=upload.dead_letter_queue_url,
                      index_queue_url=upload.faces_queue_url,
                      index_dlq_url=upload.faces_dead_letter_queue_url, photos=registry,
                      reservations=registry,
                      # A reservation's URLs live presign_ttl_s; after that and the grace, no
                      # upload can still arrive.
                      reservation_expiry_s=settings.presign_ttl_s + upload.reservation_grace_s)


_reconciler: WarmSlot[Reconciler] = WarmSlot("reconciler", lambda: build_reconciler())


def reconcile(min_age_s: float, max_age_s: float, limit: int, *, expire_after_s: int | None = None,
              event_id: str = "") -> Report:
    return _reconciler.get().run(min_age_s=min_age_s, max_age_s=max_age_s, limit=limit,
                                 expire_after_s=expire_after_s, event_id=event_id)


def rebuild(requests: list[RebuildRequest]) -> list[dict[str, str]]:
    return _reconciler.get().rebuild(requests)
