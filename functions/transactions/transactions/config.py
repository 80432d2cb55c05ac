"""The transactions function's own settings, read once per warm container (at cold start).

The platform's fee and where the payment provider's webhook secret lives belong to this domain;
the shared layer (``photostack.config``) knows neither.

- ``PHOTOSTACK_PLATFORM_FEE_BPS``: the platform's share of each sale, in basis points (1500).
- ``PHOTOSTACK_PAYMENT_WEBHOOK_SECRET_ARN``: the ARN or name of the webhook secret in Secrets
  Manager. Under ``PHOTOSTACK_ENV=local`` it defaults to the secret the local stack creates;
  anywhere else it must be set. The secret itself is never a setting: it is read from the store,
  checked (long enough, not a value the repository ships) and kept per warm container for
  ``PHOTOSTACK_SECRETS_MAX_AGE_S``, like the layer's other secrets.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from photostack.config import env_int, env_str, local_secret_id
from photostack.config import get_settings as platform_settings
from photostack.secrets import CachedSecret, checked_secret_value, read_secret
from photostack.warm import WarmSlot


@dataclass(frozen=True)
class TransactionsSettings:
    platform_fee_bps: int
    payment_webhook_secret_arn: str  # ARN or name of the payment webhook secret ("" = not configured)


def load() -> TransactionsSettings:
    return TransactionsSettings(
        platform_fee_bps=env_int("PHOTOSTACK_PLATFORM_FEE_BPS", 1500),
        payment_webhook_secret_arn=env_str(
            "PHOTOSTACK_PAYMENT_WEBHOOK_SECRET_ARN",
            local_secret_id(platform_settings().env, "payment-webhook-secret")),
    )


@functools.cache
def get_settings() -> TransactionsSettings:
    """The settings of this process, read once per warm container."""
    return load()


def _payment_webhook_cache() -> CachedSecret[str]:
    arn = get_settings().payment_webhook_secret_arn
    return CachedSecret("payment webhook secret", lambda: read_secret(arn),
                        lambda v: checked_secret_value("the payment webhook secret", v),
                        max_age_s=platform_settings().secrets_max_age_s)


payment_webhook = WarmSlot("payment webhook secret", _payment_webhook_cache)


def payment_webhook_secret() -> str:
    """The secret the payment provider signs its webhooks with."""
    return payment_webhook.get().get()


class RotatingWebhookSecret:
    """The webhook secret as the verifier sees it (a ``webhooks.SecretSource``).

    ``current()`` is the cached read, re-read once older than ``PHOTOSTACK_SECRETS_MAX_AGE_S``, so
    a rotation reaches a warm container within that time. The provider signs with a new secret as
    soon as it is given one, so a signature that does not match may re-read it early, but at most
    once per max age: forged signatures cannot drive Secrets Manager reads (at worst one read per
    max age on top of the regular one).
    """

    def __init__(self, cache: Callable[[], CachedSecret[str]] = payment_webhook.get, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._cache, self._clock = cache, clock
        self._lock = threading.Lock()
        self._forced_at = float("-inf")

    def current(self) -> str:
        return self._cache().get()

    def refresh_after_mismatch(self) -> bool:
        cache = self._cache()
        with self._lock:
            now = self._clock()
            if now - self._forced_at < cache.max_age_s:
                return False
            self._forced_at = now  # spent even if the re-read below is refused or fails
        before = cache.get()
        return cache.refresh_if_allowed() and cache.get() != before


def reset() -> None:
    """Forget the settings and the cached secret (tests change the environment; a LocalStack
    restart recreates the stack's secrets)."""
    get_settings.cache_clear()
    payment_webhook.reset()
