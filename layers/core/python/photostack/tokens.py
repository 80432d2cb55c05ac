"""Access tokens: short-lived JWTs that every function verifies locally.

HS256 with keys named by ``kid`` so they can rotate. The keys come from the JWT signing
keys secret in Secrets Manager (``photostack.jwt_keys`` describes it; ``make rotate-jwt-key``
rotates it): the current key signs, the previous ones still verify until every token they
signed has expired. Only HS256 is accepted, which rules out ``alg: none`` and RS/HS confusion.

Any process that has the secret's ARN (``PHOTOSTACK_JWT_KEYS_SECRET_ARN``; under
``PHOTOSTACK_ENV=local`` the local stack's secret by name) and may read it can verify:
the functions, and the photo sidecar outside LocalStack. The keys are read on first use
and cached in the :data:`signing_keys` warm slot. A rotated key signs only once every
copy has aged out (``photostack.jwt_keys``: publish first, sign later), so a verifier knows
it before it meets it; should one not (its store unreachable, a skewed clock), a token
naming a kid this process does not know makes it read the secret again (at most every
``PHOTOSTACK_UNKNOWN_KID_REFRESH_S``).
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

import jwt

from photostack import contract, jwt_keys
from photostack.config import ConfigError, Settings, get_settings, refuse_local_value
from photostack.secrets import CachedSecret, read_secret
from photostack.warm import WarmSlot

ALGORITHM = "HS256"
LEEWAY_S = 5
# Tokens verified by this process, kept until they expire (see VerifiedTokens).
VERIFIED_CACHE_SIZE = 4096


class TokenError(Exception):
    """The token is missing, malformed, forged, expired or for someone else."""


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: str
    token_id: str
    # The account's token version when the token was issued (claim ``ver``);
    # photostack.account_status rejects tokens older than the account's current one.
    version: int = 0
    # The verified token itself: calls to the photo sidecar on this person's behalf carry it.
    access_token: str = ""


def checked_keys(text: str, env: str) -> jwt_keys.KeySet:
    keys = jwt_keys.parse(text)
    for key in keys.all_keys():
        try:
            refuse_local_value("the JWT signing keys secret", key, env)
        except ConfigError as exc:  # unusable, like a malformed document
            raise jwt_keys.KeyDocumentError(str(exc)) from exc
    return keys


def keys_from_secret(settings: Settings | None = None) -> CachedSecret[jwt_keys.KeySet]:
    """The signing keys of the secret the settings name, read on first use."""
    s = settings or get_settings()
    return CachedSecret("JWT signing keys", lambda: read_secret(s.jwt_keys_secret_arn),
                        lambda text: checked_keys(text, s.env),
                        max_age_s=s.secrets_max_age_s, min_gap_s=s.unknown_kid_refresh_s)


# Tests install a CachedSecret over a document of their own.
signing_keys: WarmSlot[CachedSecret[jwt_keys.KeySet]] = WarmSlot("JWT signing keys", keys_from_secret)


def verification_key(kid: str) -> str | None:
    """The key named ``kid``; an unknown kid re-reads the secret once (rate-limited) before giving up."""
    cache = signing_keys.get()
    key = cache.get().verification_keys().get(kid)
    if key is None and cache.refresh_if_allowed():
        key = cache.get().verification_keys().get(kid)
    return key


def issue_access_token(user_id: str, role: str, *, settings: Settings | None = None,
                       now: float | None = None, version: int = 0) -> tuple[str, int]:
    """Return ``(token, expires_in_seconds)``."""
    s = settings or get_settings()
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": user_id,
        "role": role,
        "iss": s.jwt_issuer,
        "aud": s.jwt_audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + s.access_token_ttl_s,
        "jti": uuid.uuid4().hex,
        "ver": version,
    }
    kid, key = signing_keys.get().get().signing_key(issued)
    token = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})
    return token, s.access_token_ttl_s


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    kid: str
    key: str  # the key that verified it: the entry holds only while that kid still names that key
    expires_at: int


class VerifiedTokens:
    """Tokens this process has verified, so that the same token on the next request costs a
    dictionary look-up instead of PyJWT's parse and HMAC (about 0.3 ms, 6 % of the warm photos
    function's samples per page, py-spy).

    Only tokens that passed every check are kept, under the exact token text (and the audience
    and issuer checked), and a hit is taken only while the token has not expired (same leeway)
    and its kid still names the same key in the current key document: a key dropped from the
    secret stops its cached tokens as it stops uncached ones. Bounded; cleared when full.
    """

    def __init__(self, max_entries: int = VERIFIED_CACHE_SIZE) -> None:
        self._max = max_entries
        self._entries: dict[tuple[str, str, str], _Verified] = {}
        self._lock = threading.Lock()

    def get(self, token: str, s: Settings) -> Principal | None:
        hit = self._entries.get((token, s.jwt_audience, s.jwt_issuer))
        if hit is None or time.time() > hit.expires_at + LEEWAY_S:
            return None
        if signing_keys.get().get().verification_keys().get(hit.kid) != hit.key:
            return None
        return hit.principal

    def put(self, token: str, s: Settings, verified: _Verified) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[(token, s.jwt_audience, s.jwt_issuer)] = verified

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


verified_tokens = VerifiedTokens()


def verify_access_token(token: str, *, settings: Settings | None = None) -> Principal:
    s = settings or get_settings()
    cached = verified_tokens.get(token, s)
    if cached is not None:
        return cached
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenError("malformed token") from exc
    if header.get("alg") != ALGORITHM:
        raise TokenError("unsupported token algorithm")
    kid = header.get("kid")
    # Only a kid of our own shape may cost a re-read of the secret.
    key = verification_key(kid) if isinstance(kid, str) and jwt_keys.is_kid(kid) else None
    if key is None:
        raise TokenError("unknown signing key")
    try:
        claims = jwt.decode(
            token, key, algorithms=[ALGORITHM], audience=s.jwt_audience, issuer=s.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]}, leeway=LEEWAY_S,
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("token expired") from exc
    except jwt.PyJWTError as exc:
        raise TokenError("invalid token") from exc
    role = claims.get("role")
    version = claims.get("ver", 0)
    if role not in contract.ROLES or not isinstance(claims.get("sub"), str) or type(version) is not int:
        raise TokenError("invalid token claims")
    principal = Principal(user_id=claims["sub"], role=role, token_id=str(claims.get("jti", "")),
                          version=version, access_token=token)
    if type(claims["exp"]) is int:
        verified_tokens.put(token, s, _Verified(principal, str(kid), key, claims["exp"]))
    return principal
