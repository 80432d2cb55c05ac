"""Settings, read once from environment variables (12-factor).

Every setting has an embedded default that matches the local stack that `make up`
starts, so nothing needs configuring on a developer machine. Secrets have no
production default: the local defaults are marked as such and refused when
``PHOTOSTACK_ENV=production``.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

# Not a secret: a marker for "no secret configured", refused in production.
LOCAL_ONLY_SECRET = "local-development-only-secret-change-me!"  # noqa: S105


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """An integer setting; a malformed value or one below ``minimum`` is a ConfigError."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _str(name: str, default: str) -> str:
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else raw


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    redis_url: str
    consul_addr: str  # "" means: no Consul, use sidecar_addr
    sidecar_addr: str
    uploads_bucket: str
    derivatives_bucket: str
    jwt_secret: str
    jwt_issuer: str
    jwt_audience: str
    jwt_kid: str
    access_token_ttl_s: int
    refresh_token_ttl_s: int
    presign_ttl_s: int
    max_body_bytes: int
    payment_webhook_secret: str
    platform_fee_bps: int
    grpc_deadline_s: float
    log_level: str
    sidecar_service: str = "photo-sidecar"  # the photo sidecar's name in Consul

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def load() -> Settings:
    settings = Settings(
        env=_str("PHOTOSTACK_ENV", "local"),
        database_url=_str(
            "PHOTOSTACK_DATABASE_URL",
            "postgresql://photostack:photostack@127.0.0.1:5432/photostack",
        ),
        redis_url=_str("PHOTOSTACK_REDIS_URL", "redis://127.0.0.1:6379/0"),
        consul_addr=_str("PHOTOSTACK_CONSUL_ADDR", ""),
        sidecar_addr=_str("PHOTOSTACK_SIDECAR_ADDR", "127.0.0.1:50051"),
        uploads_bucket=_str("PHOTOSTACK_UPLOADS_BUCKET", "photostack-uploads"),
        derivatives_bucket=_str("PHOTOSTACK_DERIVATIVES_BUCKET", "photostack-derivatives"),
        jwt_secret=_str("PHOTOSTACK_JWT_SECRET", LOCAL_ONLY_SECRET),
        jwt_issuer=_str("PHOTOSTACK_JWT_ISSUER", "photostack-users"),
        jwt_audience=_str("PHOTOSTACK_JWT_AUDIENCE", "photostack"),
        jwt_kid=_str("PHOTOSTACK_JWT_KID", "local-1"),
        access_token_ttl_s=env_int("PHOTOSTACK_ACCESS_TOKEN_TTL_S", 15 * 60),
        refresh_token_ttl_s=env_int("PHOTOSTACK_REFRESH_TOKEN_TTL_S", 14 * 24 * 3600),
        presign_ttl_s=env_int("PHOTOSTACK_PRESIGN_TTL_S", 300),
        max_body_bytes=env_int("PHOTOSTACK_MAX_BODY_BYTES", 64 * 1024),
        payment_webhook_secret=_str("PHOTOSTACK_PAYMENT_WEBHOOK_SECRET", LOCAL_ONLY_SECRET),
        platform_fee_bps=env_int("PHOTOSTACK_PLATFORM_FEE_BPS", 1500),
        grpc_deadline_s=env_int("PHOTOSTACK_GRPC_DEADLINE_MS", 2000) / 1000.0,
        log_level=_str("PHOTOSTACK_LOG_LEVEL", "INFO"),
        sidecar_service=_str("PHOTOSTACK_SIDECAR_SERVICE", "photo-sidecar"),
    )
    if settings.is_production:
        for name, value in (
            ("PHOTOSTACK_JWT_SECRET", settings.jwt_secret),
            ("PHOTOSTACK_PAYMENT_WEBHOOK_SECRET", settings.payment_webhook_secret),
        ):
            if value == LOCAL_ONLY_SECRET or len(value) < 32:
                raise ConfigError(f"{name} must be set to a strong secret in production")
    return settings


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, read once per warm container."""
    return load()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()
