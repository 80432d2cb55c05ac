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
