"""Tokens verified once are served from the process's cache: only while they are valid, and
only while the key that verified them still verifies."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from photostack import jwt_keys, tokens
from photostack.config import get_settings
from photostack.tokens import TokenError, issue_access_token, verify_access_token

from tests.signing_keys import install_keys

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def keys() -> Iterator[jwt_keys.KeySet]:
    tokens.verified_tokens.clear()
    yield install_keys()
    tokens.signing_keys.reset()
    tokens.verified_tokens.clear()


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every token PyJWT verifies."""
    seen: list[str] = []
    real = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(tokens.jwt, "decode", counting)
    return seen


def test_the_same_token_is_verified_once(decodes: list[str]) -> None:
    token, _ = issue_access_token("u1", "photographer", version=2)
    first = verify_access_token(token)
    assert verify_access_token(token) == first
    assert (first.user_id, first.role, first.version, first.access_token) == ("u1", "photographer", 2, token)
    assert decodes == [token]


def test_refused_tokens_are_not_kept(decodes: list[str]) -> None:
    token, _ = issue_access_token("u1", "customer")
    head, body, sig = token.split(".")
    forged = f"{head}.{body}.{sig[:-2]}AA"
    for _ in range(2):
        with pytest.raises(TokenError):
            verify_access_token(forged)
    assert decodes == [forged, forged]


def test_a_cached_token_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token, ttl = issue_access_token("u1", "customer")
    verify_access_token(token)
    settings = get_settings()
    assert tokens.verified_tokens.get(token, settings) is not None
    later = time.time() + ttl + tokens.LEEWAY_S + 1
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    assert tokens.verified_tokens.get(token, settings) is None


def test_a_key_dropped_from_the_secret_stops_its_cached_tokens(keys: jwt_keys.KeySet) -> None:
    token, _ = issue_access_token("u1", "customer")
    verify_access_token(token)
    # Rotated, the new key signing already: the token still verifies (from the cache).
    install_keys(jwt_keys.rotate(keys, now=int(time.time()), keep_s=3600, publish_s=0))
    assert verify_access_token(token).user_id == "u1"
    # A document without the key (an emergency rotation): refused, cached or not.
    install_keys(jwt_keys.KeySet(jwt_keys.new_key()))
    with pytest.raises(TokenError, match="key"):
        verify_access_token(token)


def test_another_audience_is_checked_afresh() -> None:
    token, _ = issue_access_token("u1", "customer")
    verify_access_token(token)
    other = dataclasses.replace(get_settings(), jwt_audience="someone-else")
    with pytest.raises(TokenError, match="invalid"):
        verify_access_token(token, settings=other)


def test_the_cache_is_bounded() -> None:
    cache = tokens.VerifiedTokens(max_entries=3)
    for n in range(5):
        token, _ = issue_access_token(f"u{n}", "customer")
        entry = tokens._Verified(verify_access_token(token), "k-unused", "key", int(time.time()) + 60)
        cache.put(token, get_settings(), entry)
        assert len(cache._entries) <= 3
