"""Composition root of the face-index function: built once per warm container, resettable."""

from __future__ import annotations

from typing import Any

import boto3
from bibocr.models import get_models as get_ocr_models
from botocore.config import Config
from botocore.exceptions import ClientError
from facerec.models import get_models
from photostack.config import get_settings
from photostack.photo_client import get_photo_client
from photostack.warm import WarmSlot

from faces.bibs import BibIndexer
from faces.indexing import FaceIndexer


class S3Derivatives:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def read(self, key: str) -> bytes | None:
        try:
            body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return body


def build_indexer() -> FaceIndexer:
    s3 = boto3.client("s3", config=Config(retries={"max_attempts": 3, "mode": "standard"},
                                          connect_timeout=3, read_timeout=10))
    photos, derivatives = get_photo_client(), S3Derivatives(s3, get_settings().derivatives_bucket)
    return FaceIndexer(photos, derivatives, get_models(), BibIndexer(photos, derivatives, get_ocr_models()))


_indexer: WarmSlot[FaceIndexer] = WarmSlot("face indexer", build_indexer)


def service() -> FaceIndexer:
    return _indexer.get()


def reset() -> None:
    """Forget the built indexer (tests change the environment)."""
    _indexer.install(None)
