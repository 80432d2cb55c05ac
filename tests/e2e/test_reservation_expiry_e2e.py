"""A reservation whose bytes never came ends failed, with the reason, through the deployed
reconcile function (the sidecar decides, functions/upload/upload/reconcile.py asks); a
photo whose bytes came is left alone.

The expiry (by default the upload URL's lifetime plus a grace, 15 minutes) is shortened for
this run in the scheduled event's detail, and applied to this test's event only, so that
other reservations on the shared stack keep theirs.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from photostack_cli.admin import RECONCILE_FUNCTION, scheduled_event

from tests.conftest import aws_client
from tests.e2e import fixtures_images as images
from tests.e2e.journey_support import Apis, create_event, person, photo, reserve, send, wait_processed

pytestmark = pytest.mark.e2e

EXPIRE_AFTER_S = 3
# No original is re-driven by these runs (none is in a window this old): only the expiry acts.
ONLY_EXPIRY = {"min_age_s": 10 * 365 * 86400, "expire_after_s": EXPIRE_AFTER_S}


def reconcile(detail: dict[str, Any]) -> dict[str, Any]:
    reply = aws_client("lambda").invoke(FunctionName=RECONCILE_FUNCTION,
                                        Payload=json.dumps(scheduled_event(detail)).encode())
    body: dict[str, Any] = json.loads(reply["Payload"].read())
    assert "FunctionError" not in reply, body
    return body


def test_a_reservation_without_bytes_expires_failed_with_the_reason_and_an_upload_is_left(
        stack: dict[str, str]) -> None:
    apis = Apis.of(stack)
    photographer = person(apis, "photographer")
    event_id = create_event(apis, photographer, "Expiry: bytes that never came")
    never_sent = reserve(apis, photographer, event_id, images.jpeg(600, 400, seed=51), "image/jpeg")
    reserved_at = time.monotonic()
    sent = reserve(apis, photographer, event_id, images.jpeg(600, 400, seed=52), "image/jpeg")
    send(apis, photographer, sent)
    assert wait_processed(apis, photographer, [sent.photo_id])[sent.photo_id]["status"] == "ready"
    assert photo(apis, photographer, never_sent.photo_id)["status"] == "pending"

    # The reservation must have been idle for the (shortened) expiry: a wait for time to pass.
    time.sleep(max(0.0, EXPIRE_AFTER_S + 1 - (time.monotonic() - reserved_at)))
    report = reconcile({**ONLY_EXPIRY, "event_id": event_id})
    assert (report["reservations_idle"], report["reservations_expired"]) == (1, 1), report

    expired = photo(apis, photographer, never_sent.photo_id)
    assert expired["status"] == "failed"
    reason = f"upload expired: no original arrived within {EXPIRE_AFTER_S} s"
    assert expired["failure_reason"].startswith(reason), expired
    assert photo(apis, photographer, sent.photo_id)["status"] == "ready"

    # Nothing is left to expire in this event.
    again = reconcile({**ONLY_EXPIRY, "event_id": event_id})
    assert (again["reservations_idle"], again["reservations_expired"]) == (0, 0), again


def test_an_expired_reservation_leaves_no_multipart_upload_behind(stack: dict[str, str]) -> None:
    """A big upload started (its first part stored) and never completed: when the reservation
    expires its multipart upload is aborted, so its parts go; the bucket's lifecycle rule is
    the backstop (and is there on the deployed bucket)."""
    apis = Apis.of(stack)
    photographer = person(apis, "photographer")
    event_id = create_event(apis, photographer, "Expiry: a multipart upload never completed")
    started = reserve(apis, photographer, event_id, bytes(images.MULTIPART_THRESHOLD + 1), "image/png")
    reserved_at = time.monotonic()
    target = started.target
    assert target["method"] == "MULTIPART", target
    first = target["parts"][0]
    put = requests.put(first["url"], data=started.data[:int(first["size_bytes"])], timeout=60)
    assert put.status_code == 200, put.text
    s3, bucket, key = aws_client("s3"), stack["UploadsBucketName"], f"originals/{event_id}/{started.photo_id}"

    def open_uploads() -> list[str]:
        listed = s3.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", [])
        return [u["UploadId"] for u in listed if u["Key"] == key]

    assert open_uploads() == [target["upload_id"]]

    time.sleep(max(0.0, EXPIRE_AFTER_S + 1 - (time.monotonic() - reserved_at)))
    report = reconcile({**ONLY_EXPIRY, "event_id": event_id})
    assert (report["reservations_expired"], report["multipart_aborted"]) == (1, 1), report
    assert photo(apis, photographer, started.photo_id)["status"] == "failed"
    assert open_uploads() == []

    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] for r in rules
            if r["Status"] == "Enabled" and "AbortIncompleteMultipartUpload" in r] == [1], rules
