"""Composition root: the service with its real adapters, built once per warm container.

``service()`` builds on first use and keeps it in :data:`_service`; ``reset()``
forgets it (tests swap adapters with ``install()``).
"""

from __future__ import annotations

import threading

from photostack.config import Settings, get_settings
from photostack.db import Database

from transactions.catalog import CatalogUnavailable, PhotoCatalog
from transactions.presign import S3Presigner
from transactions.services import TransactionsService

_service: TransactionsService | None = None
_lock = threading.Lock()


class UnwiredCatalog:
    """Used until the photo sidecar's gRPC client is wired in: every order gets a clear 503."""

    def get_photos(self, photo_ids: list[str]) -> dict:  # type: ignore[type-arg]
        raise CatalogUnavailable("no photo catalog is configured")


def build_catalog(settings: Settings) -> PhotoCatalog:
    try:
        from transactions.catalog_grpc import GrpcPhotoCatalog  # type: ignore[import-not-found]
    except ImportError:
        return UnwiredCatalog()
    catalog: PhotoCatalog = GrpcPhotoCatalog.from_settings(settings)
    return catalog


def build(settings: Settings | None = None) -> TransactionsService:
    import boto3

    s = settings or get_settings()
    # One connection per warm container: a Lambda instance serves one request at a time.
    db = Database(s.database_url, schema="transactions", maxconn=2)
    return TransactionsService(
        db, build_catalog(s), S3Presigner(boto3.client("s3")),
        fee_bps=s.platform_fee_bps, webhook_secret=s.payment_webhook_secret,
        uploads_bucket=s.uploads_bucket, presign_ttl_s=s.presign_ttl_s,
    )


def service() -> TransactionsService:
    global _service
    with _lock:
        if _service is None:
            _service = build()
        return _service


def install(svc: TransactionsService) -> None:
    global _service
    with _lock:
        _service = svc


def reset() -> None:
    global _service
    with _lock:
        if _service is not None:
            _service.db.close()
        _service = None
