"""The transactions function's own settings: the fee and the webhook secret's name are read in
``transactions.config``; the shared layer's settings know neither."""

from __future__ import annotations

import dataclasses

import pytest
from photostack.config import ConfigError, Settings
from transactions import config

pytestmark = pytest.mark.unit


def test_the_fee_is_read_from_the_environment_with_the_local_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PHOTOSTACK_PLATFORM_FEE_BPS", raising=False)
    assert config.load().platform_fee_bps == 1500
    monkeypatch.setenv("PHOTOSTACK_PLATFORM_FEE_BPS", "1000")
    assert config.load().platform_fee_bps == 1000
    monkeypatch.setenv("PHOTOSTACK_PLATFORM_FEE_BPS", "15%")
    with pytest.raises(ConfigError, match="PHOTOSTACK_PLATFORM_FEE_BPS"):
        config.load()


def test_the_settings_are_read_once_per_container(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOTOSTACK_PLATFORM_FEE_BPS", "900")
    first = config.get_settings()
    monkeypatch.setenv("PHOTOSTACK_PLATFORM_FEE_BPS", "100")
    assert config.get_settings() is first and first.platform_fee_bps == 900


def test_the_layer_knows_no_fee_and_no_webhook_secret() -> None:
    names = {field.name for field in dataclasses.fields(Settings)} | set(vars(Settings))
    assert not {name for name in names if "fee" in name or "webhook" in name}
