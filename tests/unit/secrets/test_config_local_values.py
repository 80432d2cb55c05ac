"""Settings outside PHOTOSTACK_ENV=local refuse every value the repository ships in public."""

from __future__ import annotations

import pytest
from photostack import config
from photostack.config import ConfigError, carries_local_value, get_settings, local_database_url
from transactions import config as transactions_config

pytestmark = pytest.mark.unit

OLD_DEFAULT = "local-development-only-secret-change-me!"
REAL = {"PHOTOSTACK_DATABASE_URL": "postgresql://app:9f8e7d6c5b4a@db.internal:5432/photostack",
        "PHOTOSTACK_REDIS_URL": "redis://cache.internal:6379/0",
        "PHOTOSTACK_JWT_KEYS_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:keys",
        "PHOTOSTACK_PAYMENT_WEBHOOK_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook"}


def staging(monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    monkeypatch.setenv("PHOTOSTACK_ENV", "staging")
    for name, value in {**REAL, **extra}.items():
        monkeypatch.setenv(name, value)


def test_known_values_are_recognised_alone_inside_and_as_url_passwords() -> None:
    assert carries_local_value(OLD_DEFAULT)
    assert carries_local_value("kid-1:" + OLD_DEFAULT)
    assert carries_local_value("postgresql://photostack:photostack@127.0.0.1:5432/photostack")
    assert not carries_local_value(REAL["PHOTOSTACK_DATABASE_URL"])
    assert not carries_local_value("photostack")  # the name of things, not a password


def test_the_local_database_is_named_by_photostack_db_name_and_refused_outside_local(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PHOTOSTACK_DATABASE_URL", raising=False)
    monkeypatch.delenv("PHOTOSTACK_DB_NAME", raising=False)
    assert get_settings().database_url == "postgresql://photostack:photostack@127.0.0.1:6432/photostack"
    monkeypatch.setenv("PHOTOSTACK_DB_NAME", "photostack_ci")  # a second checkout's (.ci/run)
    config.reset_settings()
    assert get_settings().database_url == "postgresql://photostack:photostack@127.0.0.1:6432/photostack_ci"
    assert local_database_url(5432) == "postgresql://photostack:photostack@127.0.0.1:5432/photostack_ci"
    assert carries_local_value(local_database_url())


def test_a_real_configuration_loads_outside_local(monkeypatch: pytest.MonkeyPatch) -> None:
    staging(monkeypatch)
    settings = get_settings()
    assert settings.jwt_keys_secret_arn == REAL["PHOTOSTACK_JWT_KEYS_SECRET_ARN"]


@pytest.mark.parametrize("env", ["staging", "production", "Local", "prod"])
def test_the_old_default_secret_in_the_environment_is_refused_unless_exactly_local(
        monkeypatch: pytest.MonkeyPatch, env: str) -> None:
    staging(monkeypatch, PHOTOSTACK_JWT_SECRET=OLD_DEFAULT)
    monkeypatch.setenv("PHOTOSTACK_ENV", env)
    with pytest.raises(ConfigError, match="PHOTOSTACK_JWT_SECRET"):
        get_settings()


def test_the_local_database_password_is_refused_outside_local(monkeypatch: pytest.MonkeyPatch) -> None:
    staging(monkeypatch)
    monkeypatch.delenv("PHOTOSTACK_DATABASE_URL")  # falls back to the local default URL
    with pytest.raises(ConfigError, match="PHOTOSTACK_DATABASE_URL"):
        get_settings()


def test_secret_names_default_to_the_local_stack_only_in_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOTOSTACK_ENV", "local")
    monkeypatch.delenv("PHOTOSTACK_JWT_KEYS_SECRET_ARN", raising=False)
    monkeypatch.delenv("PHOTOSTACK_PAYMENT_WEBHOOK_SECRET_ARN", raising=False)
    assert get_settings().jwt_keys_secret_arn == "photostack/jwt-signing-keys"
    arn = transactions_config.get_settings().payment_webhook_secret_arn
    assert arn == "photostack/payment-webhook-secret"
    config.reset_settings()
    transactions_config.get_settings.cache_clear()
    staging(monkeypatch)
    monkeypatch.delenv("PHOTOSTACK_JWT_KEYS_SECRET_ARN")
    monkeypatch.delenv("PHOTOSTACK_PAYMENT_WEBHOOK_SECRET_ARN")
    assert get_settings().jwt_keys_secret_arn == ""
    assert transactions_config.get_settings().payment_webhook_secret_arn == ""


def test_local_accepts_the_local_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOTOSTACK_ENV", "local")
    monkeypatch.setenv("PHOTOSTACK_SOMETHING", OLD_DEFAULT)
    assert get_settings().env == "local"
