"""The reconciler expires reservations whose original never came, over real S3 (LocalStack):
the sidecar's side (what idle means, the row-locked re-check) is in
tests/integration/sidecar/test_reservations.py, the deployed whole in tests/e2e."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from upload.ports import IdleReservation, PhotoStatus
from upload.reconcile import Reconciler

from tests.unit.upload.corpus import encode, photo

pytestmark = pytest.mark.integration

EVENT = "5a1e6f0a-2b7c-4c1d-8e8f-0a1b2c3d4e5f"


class MemoryReservations:
    """The sidecar's two reconciler calls, over a dict of photo id -> status (and idle seconds)."""

    def __init__(self) -> None:
        self.status: dict[str, PhotoStatus] = {}
        self.idle: dict[str, int] = {}
        self.asked: list[tuple[int, str]] = []
        self.expired: list[tuple[str, int]] = []

    def reserve(self, idle_s: int = 1000) -> IdleReservation:
        photo_id = str(uuid.uuid4())
        self.status[photo_id] = PhotoStatus.PENDING
        self.idle[photo_id] = idle_s
        return IdleReservation(photo_id, f"originals/{EVENT}/{photo_id}")

    def idle_reservations(self, idle_s: int, *, event_id: str, limit: int) -> list[IdleReservation]:
        self.asked.append((idle_s, event_id))
        return [IdleReservation(pid, f"originals/{EVENT}/{pid}") for pid, status in self.status.items()
                if status is PhotoStatus.PENDING and self.idle[pid] >= idle_s][:limit]

    def expire_reservation(self, photo_id: str, idle_s: int) -> PhotoStatus | None:
        self.expired.append((photo_id, idle_s))
        self.status[photo_id] = PhotoStatus.FAILED
        return PhotoStatus.FAILED


class HeadFails:
    """Real S3, except that HEAD answers 503 (S3 cannot say whether an original is there)."""

    def __init__(self, s3: Any) -> None:
        self._s3 = s3

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)

    def head_object(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": "503", "Message": "Service Unavailable"}}, "HeadObject")


class NoProcessing:
    def process(self, bucket: str, key: str) -> Any:
        raise AssertionError("no original is old enough to be re-driven in these tests")


def test_a_reservation_without_its_original_is_expired_and_one_with_it_is_left(
        s3: Any, buckets: tuple[str, str]) -> None:
    uploads, _ = buckets
    reservations = MemoryReservations()
    never_came, came = reservations.reserve(), reservations.reserve()
    s3.put_object(Bucket=uploads, Key=came.original_key, Body=encode(photo(64, 48), "JPEG"))
    reconciler = Reconciler(NoProcessing(), s3, None, uploads_bucket=uploads, dlq_url="",
                            reservations=reservations, reservation_expiry_s=900)

    report = reconciler.run(min_age_s=3600)
    assert reservations.asked == [(3600, ""), (900, "")]  # stuck ones to re-drive, then idle ones
    assert reservations.expired == [(never_came.photo_id, 900)]
    assert reservations.status[came.photo_id] is PhotoStatus.PENDING  # the re-drive's to process
    assert (report.reservations_idle, report.reservations_expired, report.reservations_kept) == (2, 1, 1)
    assert report.as_dict()["reservations_expired"] == 1


def test_an_operator_expiry_applies_to_one_event_and_s3_unsure_expires_nothing(
        s3: Any, buckets: tuple[str, str]) -> None:
    uploads, _ = buckets
    reservations = MemoryReservations()
    reservation = reservations.reserve()
    reconciler = Reconciler(NoProcessing(), HeadFails(s3), None, uploads_bucket=uploads, dlq_url="",
                            reservations=reservations, reservation_expiry_s=900)
    report = reconciler.run(min_age_s=3600, expire_after_s=5, event_id=EVENT)
    assert reservations.asked == [(3600, ""), (5, EVENT)]
    assert reservations.expired == [] and reservations.status[reservation.photo_id] is PhotoStatus.PENDING
    assert report.outcomes["error"] == 1 and report.reservations_expired == 0

    done = Reconciler(NoProcessing(), s3, None, uploads_bucket=uploads, dlq_url="",
                      reservations=reservations).run(min_age_s=3600, expire_after_s=5, event_id=EVENT)
    assert reservations.expired == [(reservation.photo_id, 5)] and done.reservations_expired == 1


class Recording:
    def __init__(self) -> None:
        self.processed: list[str] = []

    def process(self, bucket: str, key: str) -> Any:
        from upload.pipeline import ProcessResult, Status

        self.processed.append(key)
        return ProcessResult(Status.READY)


def test_pending_photos_with_their_bytes_are_redriven_however_large_the_bucket(
        s3: Any, buckets: tuple[str, str]) -> None:
    """From the sidecar's list of stuck photos, not a scan of the bucket: more originals than the
    run's limit sort before the stuck one, and it is still the one processed."""
    uploads, _ = buckets
    for i in range(5):  # finished photos' originals, each older than the stuck one and before it
        s3.put_object(Bucket=uploads, Key=f"originals/{EVENT}/0000000{i}", Body=b"x")
    reservations = MemoryReservations()
    stuck, young, never_came = reservations.reserve(200), reservations.reserve(30), reservations.reserve(200)
    for r in (stuck, young):
        s3.put_object(Bucket=uploads, Key=r.original_key, Body=encode(photo(64, 48), "JPEG"))
    processor = Recording()
    report = Reconciler(processor, s3, None, uploads_bucket=uploads, dlq_url="", reservations=reservations,
                        reservation_expiry_s=900).run(min_age_s=120, limit=3)
    assert processor.processed == [stuck.original_key]  # not the young one, nor the bucket's others
    assert report.originals_seen == 1 and report.outcomes["ready"] == 1
    assert reservations.status[never_came.photo_id] is PhotoStatus.PENDING  # not idle 900 s yet


def open_uploads(s3: Any, bucket: str, key: str) -> list[str]:
    listed = s3.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", [])
    return [u["UploadId"] for u in listed if u["Key"] == key]


def test_an_expired_reservation_leaves_no_multipart_upload_behind(s3: Any, buckets: tuple[str, str]) -> None:
    """The photographer started a multipart upload (a part is stored) and never completed it: the
    expiry aborts it, so its parts go; a kept reservation's upload, and another key's, are left."""
    uploads, _ = buckets
    reservations = MemoryReservations()
    expired, renewed = reservations.reserve(), reservations.reserve(idle_s=10)
    longer_key = expired.original_key + "x"  # shares the prefix, not the key
    for key in (expired.original_key, expired.original_key, renewed.original_key, longer_key):
        upload_id = s3.create_multipart_upload(Bucket=uploads, Key=key)["UploadId"]
        s3.upload_part(Bucket=uploads, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x" * 1024)
    assert len(open_uploads(s3, uploads, expired.original_key)) == 2

    report = Reconciler(NoProcessing(), s3, None, uploads_bucket=uploads, dlq_url="",
                        reservations=reservations, reservation_expiry_s=900).run(min_age_s=3600)

    assert reservations.expired == [(expired.photo_id, 900)]
    assert open_uploads(s3, uploads, expired.original_key) == []
    assert report.multipart_aborted == 2 and report.as_dict()["multipart_aborted"] == 2
    assert len(open_uploads(s3, uploads, renewed.original_key)) == 1  # still pending: in use
    assert len(open_uploads(s3, uploads, longer_key)) == 1
    for key in (renewed.original_key, longer_key):
        for upload_id in open_uploads(s3, uploads, key):
            s3.abort_multipart_upload(Bucket=uploads, Key=key, UploadId=upload_id)


def test_an_abort_that_fails_does_not_undo_the_expiry(s3: Any, buckets: tuple[str, str]) -> None:
    uploads, _ = buckets
    reservations = MemoryReservations()
    expired = reservations.reserve()
    upload_id = s3.create_multipart_upload(Bucket=uploads, Key=expired.original_key)["UploadId"]

    report = Reconciler(NoProcessing(), ListUploadsFails(s3), None, uploads_bucket=uploads, dlq_url="",
                        reservations=reservations, reservation_expiry_s=900).run(min_age_s=3600)

    assert reservations.status[expired.photo_id] is PhotoStatus.FAILED
    assert (report.reservations_expired, report.multipart_aborted) == (1, 0)
    s3.abort_multipart_upload(Bucket=uploads, Key=expired.original_key, UploadId=upload_id)


class ListUploadsFails(HeadFails):
    """Real S3, except that listing multipart uploads answers 503."""

    def head_object(self, **kwargs: Any) -> Any:
        return self._s3.head_object(**kwargs)

    def get_paginator(self, name: str) -> Any:
        if name == "list_multipart_uploads":
            raise ClientError({"Error": {"Code": "503", "Message": "Service Unavailable"}},
                              "ListMultipartUploads")
        return self._s3.get_paginator(name)
