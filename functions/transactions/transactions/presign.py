"""Short-lived presigned GETs of originals in the uploads bucket."""

from __future__ import annotations

from typing import Any, Protocol


class Presigner(Protocol):
    def presign_get(self, bucket: str, key: str, ttl_s: int) -> str: ...


class S3Presigner:
    """Signs locally with the function's credentials; no request reaches S3 until the client uses the URL."""

    def __init__(self, s3_client: Any) -> None:
        self._s3 = s3_client

    def presign_get(self, bucket: str, key: str, ttl_s: int) -> str:
        url: str = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=ttl_s)
        return url
