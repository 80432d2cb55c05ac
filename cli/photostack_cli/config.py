"""Where the CLI keeps its settings, credentials and upload journals, and how API URLs are found.

Settings (``config.json``) and credentials (``credentials.json``, mode 0600) live in
``$PHOTOSTACK_CONFIG_DIR`` (default ``~/.config/photostack``). Upload journals live in
``$PHOTOSTACK_STATE_DIR`` (default ``$XDG_STATE_HOME/photostack``, ``~/.local/state/photostack``).

An API URL comes from, in order: the command-line flag, the environment
(``PHOTOSTACK_USERS_API_URL``...), ``config.json``, then the local stack's
``.state/stack-outputs.json`` (looked up from the current directory upwards and from
this checkout), which changes on every deploy and so is read each time, never copied.

The payment webhook secret (for `wallet topup`, which plays the simulated payment provider)
comes from ``PHOTOSTACK_PAYMENT_WEBHOOK_SECRET`` or ``config.json`` when given, else from
the local stack's Secrets Manager: the secret the stack generated, found by its ARN in the
stack outputs. The CLI keeps no secret of its own.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

APIS = ("users", "photos", "transactions")
# The stack-output name of each API's base URL.
STACK_OUTPUT = {"users": "UsersApiUrl", "photos": "PhotosApiUrl", "transactions": "TransactionsApiUrl"}
LOCALSTACK_ENDPOINT = "http://127.0.0.1:4566"
CONFIG_KEYS = (
    "users_api_url", "photos_api_url", "transactions_api_url", "payment_webhook_secret",
    "currency", "upload_workers",
)


class ConfigError(Exception):
    """The CLI cannot find what it needs (an API URL, a login)."""


def config_dir() -> Path:
    override = os.environ.get("PHOTOSTACK_CONFIG_DIR")
    return Path(override) if override else Path.home() / ".config" / "photostack"


def state_dir() -> Path:
    override = os.environ.get("PHOTOSTACK_STATE_DIR")
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "state") / "photostack"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} is not readable JSON ({exc}); fix or delete it") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object; fix or delete it")
    return data


def write_json_private(path: Path, data: dict[str, Any]) -> None:
    """Atomically replace ``path`` with ``data``, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=2, sort_keys=True)
    os.replace(tmp, path)


def load_config() -> dict[str, Any]:
    return _read_json(config_dir() / "config.json")


def save_config(data: dict[str, Any]) -> None:
    write_json_private(config_dir() / "config.json", data)


def load_credentials() -> dict[str, Any]:
    return _read_json(config_dir() / "credentials.json")


def save_credentials(data: dict[str, Any]) -> None:
    write_json_private(config_dir() / "credentials.json", data)


def forget_credentials() -> None:
    (config_dir() / "credentials.json").unlink(missing_ok=True)


def _stack_outputs_candidates() -> list[Path]:
    explicit = os.environ.get("PHOTOSTACK_STACK_OUTPUTS")
    if explicit:
        return [Path(explicit)]
    here = Path.cwd().resolve()
    found = [folder / ".state" / "stack-outputs.json" for folder in (here, *here.parents)]
    # The checkout this package was installed from (pip install -e cli).
    found.append(Path(__file__).resolve().parents[2] / ".state" / "stack-outputs.json")
    return found


def stack_outputs() -> dict[str, Any]:
    for path in _stack_outputs_candidates():
        if path.is_file():
            return _read_json(path)
    return {}


@dataclass(frozen=True)
class Settings:
    api_urls: dict[str, str]
    payment_webhook_secret: str  # "" = read the local stack's secret when needed (webhook_secret)
    currency: str
    upload_workers: int

    def url(self, api: str) -> str:
        url = self.api_urls.get(api)
        if not url:
            raise ConfigError(
                f"no URL for the {api} API: pass --{api}-url, set PHOTOSTACK_{api.upper()}_API_URL, "
                f"or deploy the local stack (make up) so .state/stack-outputs.json exists"
            )
        return url.rstrip("/")


def resolve(flags: dict[str, str | None] | None = None) -> Settings:
    flags = flags or {}
    config = load_config()
    outputs: dict[str, Any] | None = None
    urls: dict[str, str] = {}
    for api in APIS:
        value = (flags.get(api) or os.environ.get(f"PHOTOSTACK_{api.upper()}_API_URL")
                 or config.get(f"{api}_api_url"))
        if not value:
            outputs = stack_outputs() if outputs is None else outputs
            value = outputs.get(STACK_OUTPUT[api])
        if value:
            urls[api] = str(value)
    try:
        workers = int(os.environ.get("PHOTOSTACK_UPLOAD_WORKERS") or config.get("upload_workers") or 4)
    except ValueError as exc:
        raise ConfigError("upload_workers must be an integer") from exc
    return Settings(
        api_urls=urls,
        payment_webhook_secret=str(os.environ.get("PHOTOSTACK_PAYMENT_WEBHOOK_SECRET")
                                   or config.get("payment_webhook_secret") or ""),
        currency=str(config.get("currency") or "EUR").upper(),
        upload_workers=max(1, min(workers, 32)),
    )


def webhook_secret(settings: Settings) -> str:
    """The secret to sign simulated payment webhooks with: the one given, else the stack's own."""
    if settings.payment_webhook_secret:
        return settings.payment_webhook_secret
    outputs = stack_outputs()
    arn = outputs.get("PaymentWebhookSecretArn")
    if not arn:
        raise ConfigError("no payment webhook secret: deploy the local stack (make up), or set "
                          "PHOTOSTACK_PAYMENT_WEBHOOK_SECRET or "
                          "`photostack config set payment_webhook_secret`")
    import boto3  # only this command needs it
    import botocore.exceptions

    client = boto3.client("secretsmanager", endpoint_url=str(outputs.get("Endpoint") or LOCALSTACK_ENDPOINT),
                          region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test")  # noqa: S106 (LocalStack's dummy credentials)
    try:
        return str(client.get_secret_value(SecretId=str(arn))["SecretString"])
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise ConfigError(f"cannot read the stack's payment webhook secret ({exc})") from exc
