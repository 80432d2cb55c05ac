"""The originals in the uploads bucket: what is stored there now, and short-lived presigned GETs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class StoredObject:
    etag: str  # without quotes
    version_id: str  # "" when the bucket is not versioned


class Presigner(Protocol):
    def current(self, bucket: str, key: str) -> StoredObject | None:
        """The object stored under ``key`` now, or None when there is none."""
        ...

    def presign_get(self, bucket: str, key: str, ttl_s: int, version_id: str = "") -> str: ...


class S3Presigner:
    """Signs locally with the function's credentials; ``current`` is one HEAD request."""

    def __init__(self, s3_client: Any) -> None:
        self._s3 = s3_client

    def current(self, bucket: str, key: str) -> StoredObject | None:
        try:
            head = self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        version = str(head.get("VersionId") or "")
        return StoredObject(etag=str(head.get("ETag", "")).strip('"'),
                            version_id="" if version == "null" else version)

    def presign_get(self, bucket: str, key: str, ttl_s: int, version_id: str = "") -> str:
        params = {"Bucket": bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id  # the checked version, whatever is written later
        url: str = self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl_s)
        return url
