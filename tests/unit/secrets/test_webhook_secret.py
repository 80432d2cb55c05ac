"""The payment webhook secret: read from the store, checked, cached."""

from __future__ import annotations

import pytest
from photostack.secrets import CachedSecret, SecretUnavailable, checked_secret_value
from transactions import config

pytestmark = pytest.mark.unit


def test_short_or_shipped_webhook_secrets_are_refused_outside_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOTOSTACK_ENV", "staging")
    monkeypatch.setenv("PHOTOSTACK_DATABASE_URL", "postgresql://app:elsewhere-9f8e@db/photostack")
    for bad in ("short", "local-development-only-secret-change-me!"):
        with pytest.raises(ValueError):
            checked_secret_value("the webhook secret", bad)
    assert checked_secret_value("the webhook secret", "Z" * 64) == "Z" * 64


def test_the_accessor_reads_the_store_once_per_container() -> None:
    reads: list[int] = []

    def read() -> str:
        reads.append(1)
        return "W" * 64

    config.payment_webhook.install(CachedSecret("hook", read, lambda v: v, max_age_s=300))
    try:
        assert config.payment_webhook_secret() == "W" * 64
        assert config.payment_webhook_secret() == "W" * 64
        assert len(reads) == 1
    finally:
        config.payment_webhook.reset()


def test_an_unusable_secret_is_unavailable() -> None:
    cache = CachedSecret("hook", lambda: "short", lambda v: checked_secret_value("hook", v), max_age_s=300)
    with pytest.raises(SecretUnavailable, match="unusable"):
        cache.get()
