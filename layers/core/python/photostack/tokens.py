"""Access tokens: short-lived JWTs that every function verifies locally.

HS256 with keys named by ``kid`` so they can rotate: the current key signs, the
previous keys (``PHOTOSTACK_JWT_PREVIOUS_KEYS="kid:secret,..."``) still verify.
Only HS256 is accepted, which rules out ``alg: none`` and RS/HS confusion.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass

import jwt

from photostack.config import Settings, get_settings

ALGORITHM = "HS256"
ROLES = ("customer", "photographer", "admin")


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


def _keys(settings: Settings) -> dict[str, str]:
    keys = {settings.jwt_kid: settings.jwt_secret}
    for pair in filter(None, os.environ.get("PHOTOSTACK_JWT_PREVIOUS_KEYS", "").split(",")):
        kid, _, secret = pair.partition(":")
        if kid and secret:
            keys.setdefault(kid, secret)
    return keys


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
    token = jwt.encode(claims, s.jwt_secret, algorithm=ALGORITHM, headers={"kid": s.jwt_kid})
    return token, s.access_token_ttl_s


def verify_access_token(token: str, *, settings: Settings | None = None) -> Principal:
    s = settings or get_settings()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenError("malformed token") from exc
    if header.get("alg") != ALGORITHM:
        raise TokenError("unsupported token algorithm")
    key = _keys(s).get(str(header.get("kid")))
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
    if role not in ROLES or not isinstance(claims.get("sub"), str) or type(version) is not int:
        raise TokenError("invalid token claims")
    return Principal(user_id=claims["sub"], role=role, token_id=str(claims.get("jti", "")),
                     version=version)
