"""The upload function records which exact original it hashed (LocalStack S3, Redis)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from upload.claims import RedisWorkClaims
from upload.pipeline import Status, UploadProcessor
from upload.storage import S3ObjectStore

from tests.unit.upload.corpus import encode, photo
from tests.unit.upload.fakes import MemoryPhotoRegistry

pytestmark = pytest.mark.integration


@pytest.fixture
def versioned(s3: Any, buckets: tuple[str, str]) -> Iterator[str]:
    bucket = f"it-versioned-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    yield bucket
    listed = s3.list_object_versions(Bucket=bucket)
    for item in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]:
        s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
    s3.delete_bucket(Bucket=bucket)


def test_the_version_and_etag_of_the_hashed_original_are_registered(
        s3: Any, store: S3ObjectStore, claims: RedisWorkClaims, buckets: tuple[str, str],
        versioned: str) -> None:
    photo_id = str(uuid.uuid4())
    key = f"originals/e1/{photo_id}"
    s3.put_object(Bucket=versioned, Key=key, Body=encode(photo(), "JPEG"))
    data = encode(photo(), "PNG")
    latest = s3.put_object(Bucket=versioned, Key=key, Body=data)  # the one that counts
    registry = MemoryPhotoRegistry()
    registry.reserve(photo_id)
    outcome = UploadProcessor(store, registry, claims, derivatives_bucket=buckets[1]).process(versioned, key)
    assert outcome.status is Status.READY
    original = registry.photos[photo_id].original
    assert original is not None
    assert original.version_id == latest["VersionId"] and original.version_id not in ("", "null")
    assert original.etag == latest["ETag"].strip('"')
    assert original.sha256 == hashlib.sha256(data).hexdigest()


def test_an_unversioned_bucket_records_the_etag_alone(s3: Any, store: S3ObjectStore, claims: RedisWorkClaims,
                                                       buckets: tuple[str, str]) -> None:
    uploads, derivatives = buckets
    photo_id = str(uuid.uuid4())
    key = f"originals/e1/{photo_id}"
    put = s3.put_object(Bucket=uploads, Key=key, Body=encode(photo(), "JPEG"))
    registry = MemoryPhotoRegistry()
    registry.reserve(photo_id)
    UploadProcessor(store, registry, claims, derivatives_bucket=derivatives).process(uploads, key)
    original = registry.photos[photo_id].original
    assert original is not None and (original.etag, original.version_id) == (put["ETag"].strip('"'), "")
