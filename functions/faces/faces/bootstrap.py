"""Composition root of the face-index function: built once per warm container, resettable."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from photostack.config import get_settings
from photostack.rpc.photo_client import get_photo_client

from faces.indexing import FaceIndexer
from faces.models import get_models


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


_indexer: FaceIndexer | None = None
_lock = threading.Lock()


def get_indexer() -> FaceIndexer:
    global _indexer
    with _lock:
        if _indexer is None:
            s3 = boto3.client("s3", config=Config(retries={"max_attempts": 3, "mode": "standard"},
                                                  connect_timeout=3, read_timeout=10))
            _indexer = FaceIndexer(get_photo_client(), S3Derivatives(s3, get_settings().derivatives_bucket),
                                   get_models())
        return _indexer


def reset_indexer() -> None:
    global _indexer
    with _lock:
        _indexer = None
