"""Composition root: the service and its adapters, built once per warm container."""

from __future__ import annotations

import boto3
from botocore.config import Config
from photostack.config import get_settings
from photostack.photo_client import get_photo_client
from photostack.warm import WarmSlot

from photos.services import PhotosService
from photos.storage import Storage


def s3_client():  # type: ignore[no-untyped-def]
    # The endpoint comes from AWS_ENDPOINT_URL when set (LocalStack); path-style
    # addressing keeps presigned URLs valid without per-bucket DNS names.
    return boto3.client(
        "s3",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=2,
            read_timeout=5,
            retries={"max_attempts": 2, "mode": "standard"},
        ),
    )


def build_service() -> PhotosService:
    s = get_settings()
    storage = Storage(
        s3_client(),
        uploads_bucket=s.uploads_bucket,
        derivatives_bucket=s.derivatives_bucket,
        ttl_s=s.presign_ttl_s,
    )
    return PhotosService(get_photo_client(), storage)


_service: WarmSlot[PhotosService] = WarmSlot("photos service", build_service)


def service() -> PhotosService:
    return _service.get()


def reset() -> None:
    """Forget the built service (tests change the environment)."""
    _service.install(None)
