from __future__ import annotations

import json

import pytest
from transactions.errors import InvalidRequest, WebhookRejected
from transactions.webhooks import SIGNATURE_HEADER, PaymentEvent, sign, signature_header, verify

from tests.payment_fakes import SimulatedProvider

pytestmark = pytest.mark.unit

SECRET = "a-test-secret-that-is-long-enough-0123"
BODY = b'{"event_id":"evt_1","payment_id":"6f1c2b8e-1d7a-4c33-9a43-2f8f5c1e9b10","status":"succeeded"}'
NOW = 1_700_000_000


def test_a_valid_signature_is_accepted() -> None:
    assert verify(SECRET, signature_header(SECRET, BODY, NOW), BODY, now=NOW + 10) == NOW


def test_signature_covers_timestamp_and_body() -> None:
    assert sign(SECRET, BODY, NOW) != sign(SECRET, BODY, NOW + 1)
    assert sign(SECRET, BODY, NOW) != sign(SECRET, BODY + b" ", NOW)


@pytest.mark.parametrize("header", [
    None, "", "garbage", f"t={NOW}", "v1=" + "0" * 64, f"t=abc,v1={'0' * 64}", f"t={NOW},v1=xyz",
])
def test_malformed_headers_are_rejected(header: str | None) -> None:
    with pytest.raises(WebhookRejected):
        verify(SECRET, header, BODY, now=NOW)


def test_forged_signature_is_rejected() -> None:
    with pytest.raises(WebhookRejected, match="does not match"):
        verify(SECRET, signature_header("another-secret-entirely-0123456789", BODY, NOW), BODY, now=NOW)


def test_tampered_body_is_rejected() -> None:
    header = signature_header(SECRET, BODY, NOW)
    with pytest.raises(WebhookRejected):
        verify(SECRET, header, BODY.replace(b"succeeded", b"failed"), now=NOW)


@pytest.mark.parametrize("skew", [301, -301, 10**6])
def test_stale_and_future_timestamps_are_rejected(skew: int) -> None:
    header = signature_header(SECRET, BODY, NOW)
    with pytest.raises(WebhookRejected) as caught:
        verify(SECRET, header, BODY, now=NOW + skew)
    assert caught.value.code == "stale_signature"


def test_one_matching_signature_among_several_is_enough() -> None:
    header = f"t={NOW},v1={'0' * 64},v1={sign(SECRET, BODY, NOW)}"
    assert verify(SECRET, header, BODY, now=NOW) == NOW


def test_event_parsing() -> None:
    event = PaymentEvent.parse(BODY)
    assert (event.event_id, event.status) == ("evt_1", "succeeded")


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b'{"payment_id":"6f1c2b8e-1d7a-4c33-9a43-2f8f5c1e9b10","status":"succeeded"}',
    b'{"event_id":"e","payment_id":"nope","status":"succeeded"}',
    b'{"event_id":"e","payment_id":"6f1c2b8e-1d7a-4c33-9a43-2f8f5c1e9b10","status":"refunded"}',
    b'{"event_id":5,"payment_id":"6f1c2b8e-1d7a-4c33-9a43-2f8f5c1e9b10","status":"failed"}',
])
def test_bad_event_bodies_are_400(body: bytes) -> None:
    with pytest.raises(InvalidRequest):
        PaymentEvent.parse(body)


def test_simulated_provider_signs_what_verify_accepts() -> None:
    hook = SimulatedProvider(SECRET).webhook("6f1c2b8e-1d7a-4c33-9a43-2f8f5c1e9b10", "failed", timestamp=NOW)
    verify(SECRET, hook.headers[SIGNATURE_HEADER], hook.body, now=NOW)
    assert json.loads(hook.body)["status"] == "failed"
