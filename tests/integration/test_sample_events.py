"""The sample events in events/ are real: each dispatches through its function's handler."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from chalice.app import S3Event
from photostack.discovery import reset_resolvers
from photostack.photo_client import reset_photo_client
from photostack.rpc import reset_channels

from tests.apps import load_app
from tests.identity import use_identity

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[2] / "events"


def context() -> Any:
    return SimpleNamespace(aws_request_id="sample", function_name="sample", memory_limit_in_mb=256,
                           invoked_function_arn="arn:aws:lambda:us-east-1:000000000000:function:sample",
                           get_remaining_time_in_millis=lambda: 10_000, log_stream_name="sample")


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@pytest.mark.parametrize("domain", ["users", "photos", "transactions"])
def test_health_events_dispatch_through_the_chalice_router(domain: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    if domain == "photos":  # its /health asks the stack's sidecar, as the photos function (mTLS)
        use_identity(monkeypatch, "photostack-photos")
        reset_photo_client()
        reset_resolvers()
        reset_channels()
    response = load_app(domain)(load(f"{domain}-health.json"), context())
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["status"] == "ok"


def test_get_user_event_reaches_its_route() -> None:
    response = load_app("users")(load("users-get-user.json"), context())
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"]["code"] == "not_found"


def test_upload_event_is_a_valid_s3_event() -> None:
    event = S3Event(load("upload-s3-put.json"), context())
    assert event.bucket == "photostack-uploads"
    assert event.key.startswith("originals/")
