"""The JWT signing keys: the secret's JSON document, key ids and rotation. No I/O.

The secret (``JwtSigningKeysSecret`` in template.yaml) holds::

    {"current": "<key>",
     "next": {"key": "<key>", "signs_from": 1764410300},
     "previous": [{"key": "<key>", "retired_at": 1764410000}, ...]}

CloudFormation creates it as ``{"current": "<generated>"}`` (``GenerateSecretString`` puts
the generated value under one top-level name); :func:`rotate` adds the rest. Every key in it,
current, next and previous, verifies; the current key signs until the next one's
``signs_from``, and the next key from then on. A key's ``kid`` is derived from the key itself
(:func:`kid_of`), so the document cannot name a key wrongly, a stack created afresh gets new
kids by itself, and a verifier holding an old copy of the document sees an unknown kid and
reads the secret again.

Publish first, sign later: a rotation adds the new key as ``next`` and it signs only once
every verifier has re-read the document (``PHOTOSTACK_SECRETS_MAX_AGE_S`` plus a margin,
:func:`publish_delay_s`). Signing at once would hand out tokens that a verifier holding the
old copy refuses until its unknown-kid re-read, which is rate-limited: a forged kid a few
seconds before the rotation used it up, and the photos API answered 401 to fresh logins.

A retired key is kept while tokens it signed can still be valid: the access-token TTL,
plus how long a function whose store was unreachable may keep signing with it
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
# Between a rotation and its key's first signature, beyond the verifiers' cache age: the
# clock skew between the machine that rotates and the functions (NTP keeps it far below).
PUBLISH_MARGIN_S = 5


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
class PendingKey:
    key: str
    signs_from: int  # unix seconds: every verifier has it by then

    @cached_property
    def kid(self) -> str:
        return kid_of(self.key)

    def signs_at(self, now: float) -> bool:
        return now >= self.signs_from


@dataclass(frozen=True)
class KeySet:
    current: str
    previous: tuple[RetiredKey, ...] = ()
    next: PendingKey | None = None

    # Computed once per document, not per token (the sidecar verifies on every call).
    @cached_property
    def current_kid(self) -> str:
        return kid_of(self.current)

    @cached_property
    def _by_kid(self) -> Mapping[str, str]:
        keys = {kid_of(r.key): r.key for r in self.previous}
        keys[self.current_kid] = self.current
        if self.next is not None:
            keys[self.next.kid] = self.next.key
        return MappingProxyType(keys)

    def verification_keys(self) -> Mapping[str, str]:
        """kid -> key for every key that verifies: current, next and the retired ones kept."""
        return self._by_kid

    def signing_key(self, now: float) -> tuple[str, str]:
        """``(kid, key)`` that signs at ``now``: the next key once its time has come."""
        if self.next is not None and self.next.signs_at(now):
            return self.next.kid, self.next.key
        return self.current_kid, self.current

    def all_keys(self) -> list[str]:
        pending = [self.next.key] if self.next is not None else []
        return [self.current, *pending, *(r.key for r in self.previous)]


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
    raw_next = doc.get("next")
    pending = None
    if raw_next is not None:
        if not isinstance(raw_next, dict) or type(raw_next.get("signs_from")) is not int:
            raise KeyDocumentError("next must be {'key': ..., 'signs_from': <unix seconds>}")
        pending = PendingKey(_key(raw_next.get("key"), "next.key"), raw_next["signs_from"])
    return KeySet(current, tuple(previous), pending)


def dump(keys: KeySet) -> str:
    doc: dict[str, Any] = {"current": keys.current}
    if keys.next is not None:
        doc["next"] = {"key": keys.next.key, "signs_from": keys.next.signs_from}
    doc["previous"] = [{"key": r.key, "retired_at": r.retired_at} for r in keys.previous]
    return json.dumps(doc)


def retention_s(access_token_ttl_s: int, secrets_max_age_s: int) -> int:
    """How long a retired key keeps verifying: every token it can have signed has expired by then."""
    return access_token_ttl_s + secrets_max_age_s + MARGIN_S


def publish_delay_s(secrets_max_age_s: int) -> int:
    """How long after a rotation its key starts signing: every verifier's copy is newer by then."""
    return secrets_max_age_s + PUBLISH_MARGIN_S


class RotationInProgress(KeyDocumentError):
    """The last rotation's key does not sign yet; rotating again now would skip its publication."""

    def __init__(self, signs_from: int) -> None:
        super().__init__(f"the last rotation's key signs only from {signs_from} (unix seconds); "
                         "rotate again after that")
        self.signs_from = signs_from


def settled(keys: KeySet, now: int) -> KeySet:
    """The document with a next key whose time has come made current (the old one retired then)."""
    if keys.next is None or not keys.next.signs_at(now):
        return keys
    return KeySet(keys.next.key, (RetiredKey(keys.current, keys.next.signs_from), *keys.previous))


def rotate(keys: KeySet, *, now: int, keep_s: int, publish_s: int, key: str | None = None) -> KeySet:
    """A new key that signs from ``now + publish_s`` on; retired keys older than ``keep_s`` dropped.

    Refused (:class:`RotationInProgress`) while the last rotation's key does not sign yet.
    """
    keys = settled(keys, now)
    if keys.next is not None:
        raise RotationInProgress(keys.next.signs_from)
    fresh = _key(key if key is not None else new_key(), "the new key")
    if fresh in keys.all_keys():
        raise KeyDocumentError("the new key is already in the document")
    kept = tuple(r for r in keys.previous if now - r.retired_at < keep_s)
    return KeySet(keys.current, kept, PendingKey(fresh, now + publish_s))
