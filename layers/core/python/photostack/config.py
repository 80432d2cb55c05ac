"""Settings, read once from environment variables (12-factor).

Every setting has an embedded default that matches the local stack that `make up`
starts, so nothing needs configuring on a developer machine. Secrets are not settings:
they live in Secrets Manager (``photostack.secrets``) and the environment names only
where (``PHOTOSTACK_*_SECRET_ARN``, an ARN or a name). Under ``PHOTOSTACK_ENV=local`` those
names default to the secrets the local stack creates; anywhere else they must be set.

Outside ``local``, any value this repository ever shipped (the old default secrets, the
local database password) is refused wherever it turns up: in a ``PHOTOSTACK_*`` variable,
in a setting that fell back to its local default, or in a secret read from the store.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from photostack.contract import SIDECAR_SERVICE

LOCAL_ENV = "local"
# Every secret value this repository ever shipped, as a default or a test constant. Public,
# so never a secret: refused outside PHOTOSTACK_ENV=local (and by infra/deploy.py).
KNOWN_LOCAL_SECRETS = frozenset({
    "local-development-only-secret-change-me!",  # template.yaml's JwtSecret/PaymentWebhookSecret default
    "local-dev-only-change-me",  # an earlier config.py default
    "a-test-secret-that-is-long-enough-0123",
    "integration-webhook-secret-0123456789abcdef",
    "bench-webhook-secret-0123456789abcdefghij",
    "x" * 40,
})
# Passwords of the local stack's services (infra/services.sh), as they appear in URLs.
KNOWN_LOCAL_PASSWORDS = frozenset({"photostack"})


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


def carries_local_value(value: str) -> bool:
    """Whether ``value`` is, or contains, a secret or password the repository ships in public."""
    if any(known in value for known in KNOWN_LOCAL_SECRETS):
        return True
    # A URL with a password (postgresql://user:password@host/db, redis://:password@host).
    _, sep, rest = value.partition("://")
    credentials, at, _ = rest.partition("@")
    return bool(sep and at and credentials.partition(":")[2] in KNOWN_LOCAL_PASSWORDS)


def refuse_local_value(name: str, value: str, env: str) -> None:
    """ConfigError when ``value`` is a publicly known local value and ``env`` is not ``local``."""
    if env != LOCAL_ENV and carries_local_value(value):
        raise ConfigError(f"{name} carries a value known from the local stack; "
                          f"it is refused when PHOTOSTACK_ENV={env!r} (only 'local' accepts it)")


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


def env_str(name: str, default: str) -> str:
    """A text setting; unset or empty means the default."""
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else raw


_str = env_str


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    redis_url: str
    consul_addr: str  # "" means: no Consul, use sidecar_addr
    sidecar_addr: str
    uploads_bucket: str
    derivatives_bucket: str
    jwt_keys_secret_arn: str  # ARN or name of the JWT signing keys secret ("" = not configured)
    jwt_issuer: str
    jwt_audience: str
    access_token_ttl_s: int
    refresh_token_ttl_s: int
    presign_ttl_s: int
    max_body_bytes: int
    secrets_max_age_s: int  # a secret read longer ago than this is read again on next use
    unknown_kid_refresh_s: int  # a token with an unknown kid re-reads the keys at most this often
    grpc_deadline_s: float
    sidecar_service: str = SIDECAR_SERVICE  # the photo sidecar's name in Consul
    web_origin: str = ""  # the web app's origin, the one CORS allows ("" = no CORS header)
    # This process's Consul Connect service name (template.yaml sets it per function, e.g.
    # photostack-upload); "": no identity, so no calls to the sidecar (photostack.rpc.connect).
    connect_service: str = ""
    # Its Consul ACL token, or a file holding it (the sidecar and the tests read
    # .state/consul/tokens/); photostack.discovery.consul_token_from_environment reads them.
    consul_token: str = ""
    consul_token_file: str = ""


def local_secret_id(env: str, name: str) -> str:
    """The default name of a secret: the one the local stack creates (template.yaml names its
    secrets ``<stack>/<name>``) under ``PHOTOSTACK_ENV=local``; "" (not configured) anywhere else."""
    stack = _str("PHOTOSTACK_STACK", "photostack") if env == LOCAL_ENV else ""
    return stack and f"{stack}/{name}"


def local_database_url(port: int = 6432) -> str:
    """The local stack's database: through PgBouncer (6432), or PostgreSQL itself (5432, migrations).
    ``PHOTOSTACK_DB_NAME`` gives a second checkout on the machine a database of its own (.ci/run)."""
    name = env_str("PHOTOSTACK_DB_NAME", "photostack")
    return f"postgresql://photostack:photostack@127.0.0.1:{port}/{name}"


def load() -> Settings:
    env = _str("PHOTOSTACK_ENV", LOCAL_ENV)
    settings = Settings(
        env=env,
        # Through PgBouncer (transaction pooling; infra/pgbouncer/), as through RDS Proxy on AWS.
        database_url=_str("PHOTOSTACK_DATABASE_URL", local_database_url()),
        redis_url=_str("PHOTOSTACK_REDIS_URL", "redis://127.0.0.1:6379/0"),
        consul_addr=_str("PHOTOSTACK_CONSUL_ADDR", ""),
        sidecar_addr=_str("PHOTOSTACK_SIDECAR_ADDR", "127.0.0.1:15051"),
        uploads_bucket=_str("PHOTOSTACK_UPLOADS_BUCKET", "photostack-uploads"),
        derivatives_bucket=_str("PHOTOSTACK_DERIVATIVES_BUCKET", "photostack-derivatives"),
        jwt_keys_secret_arn=_str("PHOTOSTACK_JWT_KEYS_SECRET_ARN", local_secret_id(env, "jwt-signing-keys")),
        jwt_issuer=_str("PHOTOSTACK_JWT_ISSUER", "photostack-users"),
        jwt_audience=_str("PHOTOSTACK_JWT_AUDIENCE", "photostack"),
        access_token_ttl_s=env_int("PHOTOSTACK_ACCESS_TOKEN_TTL_S", 15 * 60),
        refresh_token_ttl_s=env_int("PHOTOSTACK_REFRESH_TOKEN_TTL_S", 14 * 24 * 3600),
        presign_ttl_s=env_int("PHOTOSTACK_PRESIGN_TTL_S", 300),
        max_body_bytes=env_int("PHOTOSTACK_MAX_BODY_BYTES", 64 * 1024),
        secrets_max_age_s=env_int("PHOTOSTACK_SECRETS_MAX_AGE_S", 300, minimum=1),
        unknown_kid_refresh_s=env_int("PHOTOSTACK_UNKNOWN_KID_REFRESH_S", 10, minimum=1),
        grpc_deadline_s=env_int("PHOTOSTACK_GRPC_DEADLINE_MS", 2000) / 1000.0,
        sidecar_service=_str("PHOTOSTACK_SIDECAR_SERVICE", SIDECAR_SERVICE),
        web_origin=_str("PHOTOSTACK_WEB_ORIGIN", ""),
        connect_service=_str("PHOTOSTACK_CONNECT_SERVICE", "").strip(),
        consul_token=_str("PHOTOSTACK_CONSUL_TOKEN", "").strip(),
        consul_token_file=_str("PHOTOSTACK_CONSUL_TOKEN_FILE", "").strip(),
    )
    # Outside local: no variable may carry a known local value, and no setting may have
    # fallen back to one (the database URL's default holds the local password).
    for name, value in sorted(os.environ.items()):
        if name.startswith("PHOTOSTACK_"):
            refuse_local_value(name, value, env)
    refuse_local_value("PHOTOSTACK_DATABASE_URL", settings.database_url, env)
    refuse_local_value("PHOTOSTACK_REDIS_URL", settings.redis_url, env)
    return settings


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, read once per warm container."""
    return load()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()
    get_platform.cache_clear()


@dataclass(frozen=True)
class Platform:
    """What the platform tells this process: Lambda's variables and boto3's own. Read once, like
    :class:`Settings`, but it cannot fail, so logging and metrics can use it even when the
    settings do not load (a ConfigError is itself logged)."""

    function_name: str  # AWS_LAMBDA_FUNCTION_NAME; "" outside Lambda
    log_level: str  # PHOTOSTACK_LOG_LEVEL
    aws_region: str  # AWS_REGION (what Lambda sets) or AWS_DEFAULT_REGION; "" = unset
    aws_endpoint_set: bool  # AWS_ENDPOINT_URL(_SECRETS_MANAGER): boto3 finds the endpoint itself
    aws_credentials_set: bool  # AWS_ACCESS_KEY_ID: boto3 finds the credentials itself


@functools.cache
def get_platform() -> Platform:
    """The platform's variables of this process, read once per warm container."""
    return Platform(
        function_name=env_str("AWS_LAMBDA_FUNCTION_NAME", ""),
        log_level=env_str("PHOTOSTACK_LOG_LEVEL", "INFO"),
        aws_region=env_str("AWS_REGION", "") or env_str("AWS_DEFAULT_REGION", ""),
        aws_endpoint_set=bool(env_str("AWS_ENDPOINT_URL_SECRETS_MANAGER", "")
                              or env_str("AWS_ENDPOINT_URL", "")),
        aws_credentials_set=bool(env_str("AWS_ACCESS_KEY_ID", "")),
    )
