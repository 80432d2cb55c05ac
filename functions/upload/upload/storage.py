"""S3 as the upload function's object store (boto3; AWS_ENDPOINT_URL points it at LocalStack)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from upload.ports import ObjectChanged, ObjectHead, ObjectMissing, ObjectTooLarge

# Derivative keys are fixed per photo and rewritten only by a retry of the same upload.
CACHE_CONTROL = "private, max-age=86400"


class S3ObjectStore:
    def __init__(self, client: Any) -> None:
        self.client = client

    def head(self, bucket: str, key: str) -> ObjectHead:
        try:
            response = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                raise ObjectMissing(key) from exc
            raise
        return ObjectHead(
            size=int(response["ContentLength"]),
            etag=str(response["ETag"]).strip('"'),
            content_type=response.get("ContentType"),
            metadata=dict(response.get("Metadata") or {}),
            version_id=_version(response),
        )

    def get(self, bucket: str, key: str, *, etag: str, max_bytes: int, version_id: str = "") -> bytes:
        extra = {"VersionId": version_id} if version_id else {}
        try:
            response = self.client.get_object(Bucket=bucket, Key=key, IfMatch=f'"{etag}"', **extra)
        except ClientError as exc:
            code = _code(exc)
            if code in ("PreconditionFailed", "412"):
                raise ObjectChanged(key) from exc
            if code in ("NoSuchKey", "404"):
                raise ObjectMissing(key) from exc
            raise
        body = response["Body"]
        try:
            # Never trust ContentLength alone: read at most one byte past the cap.
            data: bytes = body.read(max_bytes + 1)
        finally:
            body.close()
        if len(data) > max_bytes:
            raise ObjectTooLarge(key)
        return data

    def put(self, bucket: str, key: str, body: bytes, *, content_type: str) -> None:
        self.client.put_object(
            Bucket=bucket, Key=key, Body=body, ContentType=content_type, CacheControl=CACHE_CONTROL
        )


def _version(response: dict[str, Any]) -> str:
    version = str(response.get("VersionId") or "")
    return "" if version == "null" else version  # "null": written before versioning was enabled


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
