"""A photo whose S3 event was lost is made ready by `photostack admin redrive`, through the stack.

The uploads bucket's notification is switched off while the bytes arrive (the event is lost,
as when an S3 notification or every async attempt failed), and put back before anything else
can notice. The deployed reconcile function then finds the original and processes it.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import aws_client
from tests.e2e import fixtures_images as images
from tests.e2e.journey_support import Apis, create_event, person, photo, reserve, send

pytestmark = pytest.mark.e2e

CLI = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "photostack"


def redrive() -> dict[str, object]:
    done = subprocess.run([str(CLI), "admin", "redrive", "--min-age", "0", "--json"], capture_output=True,
                          text=True, timeout=330, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, object] = json.loads(done.stdout)
    return report


def test_a_photo_whose_upload_event_was_lost_is_made_ready_by_redrive(stack: dict[str, str]) -> None:
    apis = Apis.of(stack)
    photographer = person(apis, "photographer")
    event_id = create_event(apis, photographer, "Reconcile: lost event")
    upload = reserve(apis, photographer, event_id, images.jpeg(900, 600, seed=31), "image/jpeg")

    s3 = aws_client("s3")
    bucket = stack["UploadsBucketName"]
    notifications = s3.get_bucket_notification_configuration(Bucket=bucket)
    notifications.pop("ResponseMetadata", None)
    assert notifications.get("LambdaFunctionConfigurations"), "the stack's upload trigger is missing"
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    try:
        send(apis, photographer, upload)
    finally:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=notifications)
    time.sleep(2)
    assert photo(apis, photographer, upload.photo_id)["status"] == "pending"

    report = redrive()
    outcomes = report["outcomes"]
    assert isinstance(outcomes, dict) and outcomes.get("ready", 0) >= 1, report
    assert photo(apis, photographer, upload.photo_id)["status"] == "ready"

    # Run again: everything is final now, so nothing is processed twice.
    again = redrive()
    again_outcomes = again["outcomes"]
    assert isinstance(again_outcomes, dict) and again_outcomes.get("ready", 0) == 0, again
