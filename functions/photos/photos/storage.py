"""S3 for the photos API: presigned uploads of originals, presigned GETs of derivatives.

Presigning is local (no request to S3); only the multipart calls and deletes talk
to S3. Originals are never presigned for reading here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from photostack.jsonlog import get_logger
from photostack.s3_presign import Credentials, GetUrlSigner

from photos import errors as e
from photos.domain import CompletedPart, part_sizes
from photos.kept import KeptValues

log = get_logger("photos.storage")

PRESIGNED_CACHE_SIZE = 20_000


class PresignedUrls:
    """Presigned GET URLs reused across warm invocations while they have at least half
    their lifetime left: a page of photos needs a hundred of them (botocore spent about a
    millisecond per URL; photostack.s3_presign about 40 us)."""

    def __init__(
        self, ttl_s: int, max_entries: int = PRESIGNED_CACHE_SIZE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        # Stored at signing, a URL lives ttl_s: it is handed out for the first half of that.
        self._urls: KeptValues[str] = KeptValues(ttl_s / 2, max_entries, clock)

    def get(self, key: str, sign: Any) -> str:
        return self._urls.get(key, lambda: str(sign(key)))

    def clear(self) -> None:
        self._urls.clear()


class Storage:
    def __init__(self, s3: Any, *, uploads_bucket: str, derivatives_bucket: str, ttl_s: int,
                 credentials: Callable[[], Credentials] | None = None) -> None:
        self._s3 = s3
        self.uploads_bucket = uploads_bucket
        self.derivatives_bucket = derivatives_bucket
        self.ttl_s = ttl_s
        self.presigned = PresignedUrls(ttl_s)
        # The GETs of derivatives (a hundred per page) are signed by photostack.s3_presign: the
        # URL botocore would make for this client, at a twentieth of the cost. Uploads stay
        # with botocore. Without credentials (tests' fakes), botocore signs everything.
        self._get_signer = None if credentials is None else GetUrlSigner(
            s3.meta.endpoint_url, s3.meta.region_name, credentials, ttl_s)

    def presign_put(self, key: str, content_type: str, size_bytes: int) -> dict[str, Any]:
        # Content-Type and Content-Length are signed: S3 refuses another type or size.
        url = self._s3.generate_presigned_url(
            "put_object",
            ExpiresIn=self.ttl_s,
            Params={
                "Bucket": self.uploads_bucket,
                "Key": key,
                "ContentType": content_type,
                "ContentLength": size_bytes,
            },
        )
        return {
            "method": "PUT",
            "url": url,
            "expires_in": self.ttl_s,
            "headers": {"Content-Type": content_type, "Content-Length": str(size_bytes)},
        }

    def start_multipart(self, key: str, content_type: str, size_bytes: int) -> dict[str, Any]:
        try:
            upload = self._s3.create_multipart_upload(
                Bucket=self.uploads_bucket, Key=key, ContentType=content_type
            )
        except (BotoCoreError, ClientError) as exc:
            log.warning("create multipart upload failed", extra={"error": str(exc)})
            raise e.Unavailable("storage is unavailable") from exc
        upload_id = upload["UploadId"]
        parts = []
        for number, size in enumerate(part_sizes(size_bytes), start=1):
            url = self._s3.generate_presigned_url(
                "upload_part",
                ExpiresIn=self.ttl_s,
                Params={
                    "Bucket": self.uploads_bucket,
                    "Key": key,
                    "UploadId": upload_id,
                    "PartNumber": number,
                    "ContentLength": size,
                },
            )
            parts.append({"part_number": number, "size_bytes": size, "url": url})
        return {"method": "MULTIPART", "upload_id": upload_id, "parts": parts, "expires_in": self.ttl_s}

    def complete_multipart(
        self, key: str, upload_id: str, parts: list[CompletedPart], max_bytes: int
    ) -> None:
        try:
            listed = self._s3.list_parts(Bucket=self.uploads_bucket, Key=key, UploadId=upload_id)
            uploaded = sum(int(p["Size"]) for p in listed.get("Parts", []))
            if uploaded > max_bytes:
                self._s3.abort_multipart_upload(Bucket=self.uploads_bucket, Key=key, UploadId=upload_id)
                raise e.TooLarge(
                    "the uploaded parts exceed the declared size", code="upload_too_large"
                )
            self._s3.complete_multipart_upload(
                Bucket=self.uploads_bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": p.part_number, "ETag": p.etag} for p in parts]},
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchUpload", "InvalidPart", "InvalidPartOrder", "EntityTooSmall"):
                raise e.InvalidRequest(
                    f"the multipart upload cannot be completed: {code}", code="invalid_upload"
                ) from exc
            raise e.Unavailable("storage is unavailable") from exc
        except BotoCoreError as exc:
            raise e.Unavailable("storage is unavailable") from exc

    def derivative_url(self, key: str) -> str:
        return self.presigned.get(key, self._sign_get)

    def _sign_get(self, key: str) -> str:
        if self._get_signer is not None:
            return self._get_signer.url(self.derivatives_bucket, key)
        url: str = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.derivatives_bucket, "Key": key}, ExpiresIn=self.ttl_s
        )
        return url

    def delete(self, original_key: str, derivative_keys: list[str]) -> None:
        """Best effort: the photo record is gone already; leftovers only cost storage.

        The uploads bucket is versioned, so every version of the original goes (a plain delete
        would only hide it behind a delete marker). Empty keys mean nothing to remove: a sold
        photo is unlisted, and its objects stay for the buyers.
        """
        originals = [{"Key": original_key}] if original_key else []
        try:
            originals = self._versions(original_key) if original_key else []
        except (BotoCoreError, ClientError) as exc:
            log.warning("listing versions failed", extra={"key": original_key, "error": str(exc)})
        for bucket, objects in (
            (self.uploads_bucket, originals),
            (self.derivatives_bucket, [{"Key": k} for k in derivative_keys if k]),
        ):
            if not objects:
                continue
            try:
                self._s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
            except (BotoCoreError, ClientError) as exc:
                log.warning("deleting objects failed", extra={"bucket": bucket, "error": str(exc)})

    def _versions(self, key: str) -> list[dict[str, str]]:
        """Every version and delete marker of exactly ``key`` (a plain key when unversioned)."""
        found: list[dict[str, str]] = []
        paginator = self._s3.get_paginator("list_object_versions")
        pages = paginator.paginate(Bucket=self.uploads_bucket, Prefix=key)
        for page in pages:
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                if item["Key"] == key:
                    version = item.get("VersionId")
                    found.append({"Key": key, **({"VersionId": version} if version and version != "null"
                                                 else {})})
        return found or [{"Key": key}]
