"""The JWT signing keys: the secret's JSON document, key ids and rotation. No I/O.

The secret (``JwtSigningKeysSecret`` in template.yaml) holds::

    {"current": "<key>",
     "previous": [{"key": "<key>", "retired_at": 1764410000}, ...]}

CloudFormation creates it as ``{"current": "<generated>"}`` (``GenerateSecretString`` puts
the generated value under one top-level name); :func:`rotate` adds the rest. The current
key signs; every key, current and previous, verifies. A key's ``kid`` is derived from the
key itself (:func:`kid_of`), so the document cannot name a key wrongly, a stack created
afresh gets new kids by itself, and a verifier holding an old copy of the document sees an
unknown kid and reads the secret again.

A retired key is kept while tokens it signed can still be valid: the access-token TTL,
plus how long a warm function may keep signing with it before it re-reads the secret
(``PHOTOSTACK_SECRETS_MAX_AGE_S``), plus a margin for clock skew.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any

MIN_KEY_LENGTH = 32
KID_PREFIX = "k-"
KID_LENGTH = len(KID_PREFIX) + 16  # 12 digest bytes in unpadded base64url
MARGIN_S = 300


class KeyDocumentError(ValueError):
    """The secret's JSON is not a usable key document."""


def kid_of(key: str) -> str:
    """The key's id: a keyed digest of a fixed label, so it names the key and reveals nothing of it."""
    digest = hmac.new(key.encode(), b"photostack jwt key id", hashlib.sha256).digest()
    return KID_PREFIX + base64.urlsafe_b64encode(digest[:12]).decode().rstrip("=")


def is_kid(value: object) -> bool:
    """Whether ``value`` has the shape of a :func:`kid_of` result."""
    return isinstance(value, str) and len(value) == KID_LENGTH and value.startswith(KID_PREFIX)


def new_key() -> str:
    """A fresh signing key: 384 random bits."""
    return secrets.token_urlsafe(48)


@dataclass(frozen=True)
class RetiredKey:
    key: str
    retired_at: int  # unix seconds when it stopped being current


@dataclass(frozen=True)
class KeySet:
    current: str
    previous: tuple[RetiredKey, ...] = ()

    # Computed once per document, not per token (the sidecar verifies on every call).
    @cached_property
    def current_kid(self) -> str:
        return kid_of(self.current)

    @cached_property
    def _by_kid(self) -> Mapping[str, str]:
        keys = {kid_of(r.key): r.key for r in self.previous}
        keys[self.current_kid] = self.current
        return MappingProxyType(keys)

    def verification_keys(self) -> Mapping[str, str]:
        """kid -> key for every key that still verifies, the current one included."""
        return self._by_kid

    def all_keys(self) -> list[str]:
        return [self.current, *(r.key for r in self.previous)]


def _key(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) < MIN_KEY_LENGTH:
        raise KeyDocumentError(f"{where} must be a string of at least {MIN_KEY_LENGTH} characters")
    return value


def parse(text: str) -> KeySet:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise KeyDocumentError("the signing keys secret is not JSON") from exc
    if not isinstance(doc, dict):
        raise KeyDocumentError("the signing keys secret must be a JSON object")
    current = _key(doc.get("current"), "current")
    raw_previous = doc.get("previous", [])
    if not isinstance(raw_previous, list):
        raise KeyDocumentError("previous must be a list")
    previous = []
    for i, item in enumerate(raw_previous):
        if not isinstance(item, dict) or type(item.get("retired_at")) is not int:
            raise KeyDocumentError(f"previous[{i}] must be {{'key': ..., 'retired_at': <unix seconds>}}")
        previous.append(RetiredKey(_key(item.get("key"), f"previous[{i}].key"), item["retired_at"]))
    return KeySet(current, tuple(previous))


def dump(keys: KeySet) -> str:
    return json.dumps({"current": keys.current,
                       "previous": [{"key": r.key, "retired_at": r.retired_at} for r in keys.previous]})


def retention_s(access_token_ttl_s: int, secrets_max_age_s: int) -> int:
    """How long a retired key keeps verifying: every token it can have signed has expired by then."""
    return access_token_ttl_s + secrets_max_age_s + MARGIN_S


def rotate(keys: KeySet, *, now: int, keep_s: int, key: str | None = None) -> KeySet:
    """A new current key; the old current retired now; retired keys older than ``keep_s`` dropped."""
    fresh = _key(key if key is not None else new_key(), "the new key")
    if fresh in keys.all_keys():
        raise KeyDocumentError("the new key is already in the document")
    kept = tuple(r for r in keys.previous if now - r.retired_at < keep_s)
    return KeySet(fresh, (RetiredKey(keys.current, now), *kept))
