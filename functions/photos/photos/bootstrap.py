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
    s3 = s3_client()
    # boto3.client made (or reused) boto3's default session: derivative GETs are presigned with
    # its credentials, read per URL so that refreshed ones are used as botocore would use them.
    credentials = boto3.DEFAULT_SESSION.get_credentials() if boto3.DEFAULT_SESSION else None
    if credentials is None:
        raise RuntimeError("no AWS credentials to presign with")
    storage = Storage(
        s3,
        uploads_bucket=s.uploads_bucket,
        derivatives_bucket=s.derivatives_bucket,
        ttl_s=s.presign_ttl_s,
        credentials=credentials.get_frozen_credentials,
    )
    return PhotosService(get_photo_client(), storage)


_service: WarmSlot[PhotosService] = WarmSlot("photos service", build_service)


def service() -> PhotosService:
    return _service.get()


def reset() -> None:
    """Forget the built service (tests change the environment)."""
    _service.install(None)
