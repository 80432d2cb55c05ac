"""The webhook verifier reads the secret through a cache with a max age, so a rotation reaches a
warm container (docs/deploy-aws.md, "Rotating keys"), and forged signatures cannot drive reads."""

from __future__ import annotations

import pytest
from photostack.secrets import CachedSecret
from transactions.config import RotatingWebhookSecret
from transactions.errors import WebhookRejected
from transactions.webhooks import signature_header, verify_current

pytestmark = pytest.mark.unit

MAX_AGE_S = 300
OLD, NEW, FORGED = "o" * 40, "n" * 40, "f" * 40
BODY = b'{"event_id":"evt_1","payment_id":"6f1c2b8e-1d7a-4c33-9a43-2f8f5c1e9b10","status":"succeeded"}'
WALL = 1_700_000_000  # the signatures' timestamps; the cache runs on its own (fake) monotonic clock


class Store:
    """The secret store: the value now, and how often it was read."""

    def __init__(self) -> None:
        self.value, self.reads, self.t = OLD, 0, 0.0

    def read(self) -> str:
        self.reads += 1
        return self.value

    def clock(self) -> float:
        return self.t


def source(store: Store) -> RotatingWebhookSecret:
    cache = CachedSecret("hook", store.read, lambda v: v, max_age_s=MAX_AGE_S, clock=store.clock)
    return RotatingWebhookSecret(lambda: cache, clock=store.clock)


def accepted(secrets: RotatingWebhookSecret, signed_with: str) -> bool:
    try:
        verify_current(secrets, signature_header(signed_with, BODY, WALL), BODY, now=WALL)
    except WebhookRejected:
        return False
    return True


def test_a_rotated_secret_is_used_after_the_max_age_and_not_before() -> None:
    store = Store()
    secrets = source(store)
    assert accepted(secrets, OLD) and store.reads == 1
    store.value = NEW  # rotated in the store
    store.t = MAX_AGE_S - 1
    assert accepted(secrets, OLD)  # still the cached value: the store is not asked again
    assert secrets.current() == OLD and store.reads == 1
    store.t = MAX_AGE_S
    assert accepted(secrets, NEW) and store.reads == 2
    assert not accepted(secrets, OLD)  # the old secret no longer verifies
    assert secrets.current() == NEW


def test_a_signature_under_the_new_secret_re_reads_once_before_the_max_age() -> None:
    store = Store()
    secrets = source(store)
    assert accepted(secrets, OLD)
    store.value, store.t = NEW, 10.0
    assert accepted(secrets, NEW)  # the provider already signs with the new secret
    assert store.reads == 2


def test_forged_signatures_cost_at_most_one_extra_read_per_max_age() -> None:
    store = Store()
    secrets = source(store)
    assert accepted(secrets, OLD) and store.reads == 1
    windows = 4
    for second in range(windows * MAX_AGE_S):  # one forged webhook a second
        store.t = float(second)
        assert not accepted(secrets, FORGED)
    # Per window: the regular re-read after the max age, and at most one re-read for a mismatch.
    assert store.reads <= 2 * windows
    assert accepted(secrets, OLD)


def test_a_malformed_or_stale_signature_reads_nothing() -> None:
    store = Store()
    secrets = source(store)
    secrets.current()
    for header in ("garbage", signature_header(FORGED, BODY, WALL - 10_000)):
        with pytest.raises(WebhookRejected):
            verify_current(secrets, header, BODY, now=WALL)
    assert store.reads == 1
