"""Secrets from AWS Secrets Manager, read on first use and kept per warm container.

The stack creates each secret (``template.yaml``: ``AWS::SecretsManager::Secret`` with
``GenerateSecretString``); a function that needs one gets its ARN in an environment
variable and a policy that reads exactly that secret. Nothing secret is in the template,
the environment or the code.

Where the store is: boto3's own ``AWS_ENDPOINT_URL`` (LocalStack sets it for the functions
it runs). A process outside LocalStack under ``PHOTOSTACK_ENV=local`` (the photo sidecar,
the tests, the CLI) is pointed at the local LocalStack with its dummy credentials, so it
reads the same secrets as the deployed functions.

A value is cached for ``PHOTOSTACK_SECRETS_MAX_AGE_S`` (so a rotation reaches warm
containers), and a read that fails while a value is cached keeps the cached value: a
Secrets Manager outage does not take the APIs down. Without any value the caller gets
:class:`SecretUnavailable` (HTTP 503).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from photostack import errors
from photostack.config import LOCAL_ENV, ConfigError, get_platform, get_settings, refuse_local_value
from photostack.warm import WarmSlot

LOCALSTACK_ENDPOINT = "http://127.0.0.1:4566"
MIN_SECRET_LENGTH = 32

log = logging.getLogger(__name__)


class SecretUnavailable(errors.ServiceUnavailable):
    """The secret store cannot be reached, or the secret is missing or unusable."""

    code = "secret_unavailable"


def _client() -> Any:
    import boto3  # the Lambda runtime provides it; imported late so unit tests need no AWS
    from botocore.config import Config

    settings, platform = get_settings(), get_platform()
    # Bounded: a store that does not answer costs a request seconds, not the function's timeout.
    kwargs: dict[str, Any] = {"config": Config(connect_timeout=2, read_timeout=5,
                                               retries={"max_attempts": 3, "mode": "standard"})}
    if settings.env == LOCAL_ENV:
        if not platform.aws_endpoint_set:
            kwargs["endpoint_url"] = LOCALSTACK_ENDPOINT
        if not platform.aws_credentials_set:
            kwargs.update(aws_access_key_id="test", aws_secret_access_key="test")  # noqa: S106 (LocalStack's)
    # Lambda sets AWS_REGION (botocore reads only AWS_DEFAULT_REGION); LocalStack's region locally.
    region = platform.aws_region
    if region or settings.env == LOCAL_ENV:
        kwargs["region_name"] = region or "us-east-1"
    return boto3.client("secretsmanager", **kwargs)


secretsmanager = WarmSlot("secretsmanager client", _client)


def read_secret(secret_id: str) -> str:
    """The current string value of a secret (ARN or name), straight from the store."""
    if not secret_id:
        raise ConfigError("no secret configured (set its PHOTOSTACK_*_SECRET_ARN)")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        reply = secretsmanager.get().get_secret_value(SecretId=secret_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise SecretUnavailable(f"secret {secret_id!r} cannot be read ({code})") from exc
    except BotoCoreError as exc:
        raise SecretUnavailable(f"the secret store is unreachable ({type(exc).__name__})") from exc
    value = reply.get("SecretString")
    if not isinstance(value, str) or not value:
        raise SecretUnavailable(f"secret {secret_id!r} has no string value")
    return value


class CachedSecret[T]:
    """One secret, parsed, kept for ``max_age_s`` and re-read on demand (at most every ``min_gap_s``).

    ``read`` returns the raw string; ``parse`` turns it into ``T`` and rejects what is
    unusable (raising ``ValueError``). Thread-safe: the sidecar verifies on many threads.
    """

    def __init__(self, name: str, read: Callable[[], str], parse: Callable[[str], T], *,
                 max_age_s: float, min_gap_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._read, self._parse = read, parse
        self.max_age_s, self.min_gap_s = max_age_s, min_gap_s
        self._clock = clock
        self._lock = threading.Lock()
        self._value: T | None = None
        self._read_at = float("-inf")  # last successful read
        self._tried_at = float("-inf")  # last attempt, successful or not
        self.reads = 0  # attempts, for tests and logs

    def get(self) -> T:
        """The value, re-read first when it is older than ``max_age_s``."""
        with self._lock:
            if self._value is None or self._clock() - self._read_at >= self.max_age_s:
                self._refresh(force=self._value is None)
            assert self._value is not None
            return self._value

    def refresh_if_allowed(self) -> bool:
        """Re-read now unless the last attempt was under ``min_gap_s`` ago; True if it was re-read."""
        with self._lock:
            if self._clock() - self._tried_at < self.min_gap_s:
                return False
            return self._refresh(force=self._value is None)

    def _refresh(self, *, force: bool) -> bool:
        self._tried_at = self._clock()
        self.reads += 1
        try:
            value = self._parse(self._read())
        except (SecretUnavailable, ValueError) as exc:
            if force:
                if isinstance(exc, ValueError):
                    raise SecretUnavailable(f"{self.name} is unusable: {exc}") from exc
                raise
            # Keep serving what we have; the store is asked again after min_gap_s at the earliest.
            self._read_at = self._tried_at - self.max_age_s + self.min_gap_s
            log.warning("keeping the cached %s: %s", self.name, exc)
            return False
        self._value, self._read_at = value, self._tried_at
        return True


def checked_secret_value(name: str, value: str) -> str:
    """A plain string secret: long enough, and not a value the repository ships (outside local)."""
    if len(value) < MIN_SECRET_LENGTH:
        raise ValueError(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
    try:
        refuse_local_value(name, value, get_settings().env)
    except ConfigError as exc:
        raise ValueError(str(exc)) from exc
    return value
