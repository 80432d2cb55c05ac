"""Composition root: the service with its real adapters, built once per warm container.

``service()`` builds on first use and keeps it in a :class:`WarmSlot`; ``reset()``
forgets it and closes its pool (tests swap adapters with ``install()``).
"""

from __future__ import annotations

from photostack.config import Settings, get_settings
from photostack.db import Database
from photostack.warm import WarmSlot

from transactions import config
from transactions.catalog import PhotoCatalog
from transactions.presign import S3Presigner
from transactions.services import TransactionsService


def build_catalog() -> PhotoCatalog:
    from transactions.catalog_grpc import GrpcPhotoCatalog

    return GrpcPhotoCatalog.default()


def build(settings: Settings | None = None) -> TransactionsService:
    import boto3
    from botocore.config import Config

    s = settings or get_settings()
    own = config.get_settings()
    # One connection per warm container: a Lambda instance serves one request at a time.
    db = Database(s.database_url, schema="transactions", maxconn=2)
    return TransactionsService(
        db, build_catalog(), S3Presigner(boto3.client("s3", config=Config(signature_version="s3v4"))),
        fee_bps=own.platform_fee_bps, webhook_secret=config.RotatingWebhookSecret(),
        uploads_bucket=s.uploads_bucket, presign_ttl_s=s.presign_ttl_s,
    )


_slot: WarmSlot[TransactionsService] = WarmSlot(
    "transactions service", lambda: build(), close=lambda svc: svc.db.close()
)


def service() -> TransactionsService:
    return _slot.get()


def install(svc: TransactionsService | None) -> None:
    """Install a prepared service (tests); ``None`` builds afresh on next use."""
    _slot.install(svc)


def reset() -> None:
    _slot.reset()
