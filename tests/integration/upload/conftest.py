"""Real S3 (LocalStack), real Redis and, where named, a real photo sidecar process.

The tests use their own buckets, not the stack's uploads bucket, so the deployed upload
function is not triggered behind their back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import redis
from upload.claims import RedisWorkClaims
from upload.storage import S3ObjectStore

ENDPOINT = "http://127.0.0.1:4566"


@pytest.fixture(scope="session")
def s3() -> Any:
    client = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    try:
        client.list_buckets()
    except Exception as exc:
        pytest.fail(f"LocalStack S3 is not reachable at {ENDPOINT} (run `make up`): {exc}")
    return client


def _empty_and_delete(s3: Any, bucket: str) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        objects = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if objects:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    s3.delete_bucket(Bucket=bucket)


@pytest.fixture(scope="module")
def buckets(s3: Any) -> Iterator[tuple[str, str]]:
    suffix = uuid.uuid4().hex[:10]
    uploads, derivatives = f"it-uploads-{suffix}", f"it-derivatives-{suffix}"
    for bucket in (uploads, derivatives):
        s3.create_bucket(Bucket=bucket)
    yield uploads, derivatives
    for bucket in (uploads, derivatives):
        _empty_and_delete(s3, bucket)


@pytest.fixture
def store(s3: Any) -> S3ObjectStore:
    return S3ObjectStore(s3)


@pytest.fixture
def claims(redis_client: redis.Redis) -> RedisWorkClaims:
    # A prefix per test: no test sees another's work keys.
    return RedisWorkClaims(redis_client, lock_ttl_s=75, done_ttl_s=600,
                           prefix=f"photostack:test-upload:{uuid.uuid4().hex[:8]}")
