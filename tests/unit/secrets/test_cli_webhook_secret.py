"""The CLI keeps no webhook secret of its own: the one given, else the stack's, else a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
from photostack_cli import config

pytestmark = pytest.mark.unit


def test_without_a_deployed_stack_or_an_override_topup_has_no_secret(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = tmp_path / "stack-outputs.json"
    outputs.write_text("{}")
    monkeypatch.setenv("PHOTOSTACK_STACK_OUTPUTS", str(outputs))
    monkeypatch.setenv("PHOTOSTACK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("PHOTOSTACK_PAYMENT_WEBHOOK_SECRET", raising=False)
    settings = config.resolve()
    assert settings.payment_webhook_secret == ""
    with pytest.raises(config.ConfigError, match="make up"):
        config.webhook_secret(settings)
    monkeypatch.setenv("PHOTOSTACK_PAYMENT_WEBHOOK_SECRET", "Q" * 40)
    assert config.webhook_secret(config.resolve()) == "Q" * 40
