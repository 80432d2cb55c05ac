"""The pipeline over real S3 (LocalStack) and the Redis work claims: the corpus, and duplicates at once."""

from __future__ import annotations

import io
import threading
import uuid
from typing import Any

import pytest
from PIL import Image
from upload.claims import RedisWorkClaims
from upload.errors import WorkInProgressError
from upload.pipeline import ProcessResult, Status, UploadProcessor
from upload.ports import PhotoStatus
from upload.storage import S3ObjectStore

from tests.unit.upload.corpus import CASES, Case, encode, gps_jpeg, photo
from tests.unit.upload.fakes import MemoryPhotoRegistry

pytestmark = pytest.mark.integration

EVENT = "9d1e6f0a-2b7c-4c1d-8e8f-0a1b2c3d4e5f"


def keys_under(s3: Any, bucket: str, prefix: str) -> list[str]:
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(obj["Key"] for obj in listing.get("Contents", []))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case_over_real_s3_and_redis(case: Case, s3: Any, store: S3ObjectStore,
                                            claims: RedisWorkClaims, buckets: tuple[str, str]) -> None:
    uploads, derivatives = buckets
    photo_id = str(uuid.uuid4())
    key = f"originals/{EVENT}/{photo_id}"
    s3.put_object(Bucket=uploads, Key=key, Body=case.make(), ContentType="image/jpeg")
    registry = MemoryPhotoRegistry()
    registry.reserve(photo_id)
    outcome = UploadProcessor(store, registry, claims, derivatives_bucket=derivatives).process(uploads, key)

    assert outcome.status.value == case.status, outcome
    assert keys_under(s3, uploads, key) == [key], "the original is never deleted"
    written = keys_under(s3, derivatives, f"derivatives/{EVENT}/{photo_id}/")
    if case.status == "failed":
        assert case.reason in registry.photos[photo_id].reason
        assert written == []
    else:
        assert len(written) == 6 and registry.photos[photo_id].status is PhotoStatus.READY


def test_gps_is_gone_from_every_stored_derivative(s3: Any, store: S3ObjectStore, claims: RedisWorkClaims,
                                                   buckets: tuple[str, str]) -> None:
    uploads, derivatives = buckets
    photo_id = str(uuid.uuid4())
    key = f"originals/{EVENT}/{photo_id}"
    s3.put_object(Bucket=uploads, Key=key, Body=gps_jpeg())
    registry = MemoryPhotoRegistry()
    registry.reserve(photo_id)
    UploadProcessor(store, registry, claims, derivatives_bucket=derivatives).process(uploads, key)
    for derivative in registry.photos[photo_id].derivatives:
        body = s3.get_object(Bucket=derivatives, Key=derivative.key)["Body"].read()
        assert b"GPS" not in body and b"Exif" not in body and b"xmpmeta" not in body
        with Image.open(io.BytesIO(body)) as im:
            assert not im.getexif()


def test_duplicate_deliveries_at_once_do_the_work_once(s3: Any, store: S3ObjectStore, claims: RedisWorkClaims,
                                                        buckets: tuple[str, str]) -> None:
    uploads, derivatives = buckets
    photo_id = str(uuid.uuid4())
    key = f"originals/{EVENT}/{photo_id}"
    s3.put_object(Bucket=uploads, Key=key, Body=encode(photo(2400, 1600), "JPEG"))
    registry = MemoryPhotoRegistry()
    registry.reserve(photo_id)
    processor = UploadProcessor(store, registry, claims, derivatives_bucket=derivatives)
    outcomes: list[ProcessResult | Exception] = []
    start = threading.Barrier(4)

    def deliver() -> None:
        start.wait()
        try:
            outcomes.append(processor.process(uploads, key))
        except WorkInProgressError as exc:  # Lambda would retry it later
            outcomes.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ready = [o for o in outcomes if isinstance(o, ProcessResult) and o.status is Status.READY]
    assert len(ready) == 1 and registry.registrations == 1
    # The retries Lambda makes of the deliveries that raised are skipped as duplicates.
    assert processor.process(uploads, key).status is Status.SKIPPED
    assert registry.registrations == 1
