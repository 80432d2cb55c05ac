"""Access tokens: short-lived JWTs that every function verifies locally.

HS256 with keys named by ``kid`` so they can rotate. The keys come from the JWT signing
keys secret in Secrets Manager (``photostack.jwt_keys`` describes it; ``make rotate-jwt-key``
rotates it): the current key signs, the previous ones still verify until every token they
signed has expired. Only HS256 is accepted, which rules out ``alg: none`` and RS/HS confusion.

Any process that has the secret's ARN (``PHOTOSTACK_JWT_KEYS_SECRET_ARN``; under
``PHOTOSTACK_ENV=local`` the local stack's secret by name) and may read it can verify:
the functions, and the photo sidecar outside LocalStack. The keys are read on first use
and cached in the :data:`signing_keys` warm slot; a token naming a kid this process does
not know makes it read the secret again (at most every ``PHOTOSTACK_UNKNOWN_KID_REFRESH_S``),
which is how a warm container learns of a rotation before its copy ages out.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

from photostack import contract, jwt_keys
from photostack.config import ConfigError, Settings, get_settings, refuse_local_value
from photostack.secrets import CachedSecret, read_secret
from photostack.warm import WarmSlot

ALGORITHM = "HS256"


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
    keys = signing_keys.get().get()
    token = jwt.encode(claims, keys.current, algorithm=ALGORITHM, headers={"kid": keys.current_kid})
    return token, s.access_token_ttl_s


def verify_access_token(token: str, *, settings: Settings | None = None) -> Principal:
    s = settings or get_settings()
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
            options={"require": ["exp", "iat", "sub", "iss", "aud"]}, leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("token expired") from exc
    except jwt.PyJWTError as exc:
        raise TokenError("invalid token") from exc
    role = claims.get("role")
    version = claims.get("ver", 0)
    if role not in contract.ROLES or not isinstance(claims.get("sub"), str) or type(version) is not int:
        raise TokenError("invalid token claims")
    return Principal(user_id=claims["sub"], role=role, token_id=str(claims.get("jti", "")),
                     version=version, access_token=token)
