"""A ready photo whose objects are gone from S3 is rebuilt or marked failed by the storage check.

Through the deployed stack: photos uploaded and processed the normal way, then one loses its
original and another one derivative, behind the stack's back (as after a lost S3 state). The
check (`photostack admin check-storage`, what `make up` runs) names both; the one that kept its
original is rebuilt by the reconcile function (the derivative is back under its key, and the
photo is still ready), the one whose original is gone is marked failed with a reason, and the
photos API shows that at once (the sidecar's cache was invalidated); the untouched photo stays
ready. Scoped to the test's own event, so it touches nobody else's.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import aws_client
from tests.e2e import fixtures_images as images
from tests.e2e.journey_support import Apis, create_event, person, photo, upload_all, wait_processed

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / ".venv" / "bin" / "photostack"


def check_storage(event_id: str) -> dict[str, Any]:
    done = subprocess.run([str(CLI), "admin", "check-storage", "--event", event_id, "--json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_lost_derivatives_are_rebuilt_and_a_lost_original_is_marked_failed(stack: dict[str, str]) -> None:
    apis = Apis.of(stack)
    photographer = person(apis, "photographer")
    event_id = create_event(apis, photographer, "Storage check: lost objects")
    uploads = upload_all(apis, photographer, event_id,
                         [(images.jpeg(640, 480, seed=70 + n), "image/jpeg") for n in range(3)])
    lost_original, lost_derivative, intact = (u.photo_id for u in uploads)
    seen = wait_processed(apis, photographer, [u.photo_id for u in uploads])
    assert {p["status"] for p in seen.values()} == {"ready"}, seen

    s3 = aws_client("s3")
    s3.delete_object(Bucket=stack["UploadsBucketName"], Key=f"originals/{event_id}/{lost_original}")
    derivatives = s3.list_objects_v2(Bucket=stack["DerivativesBucketName"],
                                     Prefix=f"derivatives/{event_id}/{lost_derivative}/")["Contents"]
    gone_key = sorted(d["Key"] for d in derivatives)[0]
    gone_type = s3.head_object(Bucket=stack["DerivativesBucketName"], Key=gone_key)["ContentType"]
    s3.delete_object(Bucket=stack["DerivativesBucketName"], Key=gone_key)

    report = check_storage(event_id)
    assert (report["checked"], report["missing"], report["marked_failed"]) == (3, 2, 1), report
    assert (report["rebuilt"], report["not_rebuilt"]) == ([lost_derivative], []), report
    by_photo = {loss["photo_id"]: loss for loss in report["losses"]}
    assert set(by_photo) == {lost_original, lost_derivative}
    original_url = f"s3://{stack['UploadsBucketName']}/originals/{event_id}/{lost_original}"
    assert by_photo[lost_original]["missing"][0] == original_url
    assert by_photo[lost_derivative]["missing"] == [f"s3://{stack['DerivativesBucketName']}/{gone_key}"]

    # The API says so at once: no reader keeps seeing them ready.
    after = {p: photo(apis, photographer, p) for p in (lost_original, lost_derivative, intact)}
    assert after[lost_original]["status"] == "failed"
    reason = after[lost_original]["failure_reason"]
    assert reason.startswith(f"lost from storage: the original {original_url}"), reason
    assert after[lost_derivative]["status"] == "ready"
    assert after[intact]["status"] == "ready"
    rebuilt = s3.head_object(Bucket=stack["DerivativesBucketName"], Key=gone_key)
    assert (rebuilt["ContentType"], rebuilt["ContentLength"] > 0) == (gone_type, True)

    # Nothing left to find: the failed photo is no longer ready, the other two are whole.
    again = check_storage(event_id)
    assert (again["checked"], again["missing"], again["marked_failed"]) == (2, 0, 0), again
    assert again["rebuilt"] == [], again
