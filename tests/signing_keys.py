"""JWT signing keys for tests that issue and verify tokens in-process, without the secret store,
and tokens signed by hand: what a signer holding a key issues, or what a forger makes."""

from __future__ import annotations

import time
import uuid

import jwt
from photostack import jwt_keys, tokens
from photostack.config import get_settings
from photostack.secrets import CachedSecret


def install_keys(keys: jwt_keys.KeySet | None = None) -> jwt_keys.KeySet:
    """Make this process sign and verify with ``keys`` (fresh ones by default); undo with
    ``tokens.signing_keys.reset()``."""
    keys = keys or jwt_keys.KeySet(jwt_keys.new_key())
    tokens.signing_keys.install(CachedSecret("test signing keys", lambda: jwt_keys.dump(keys), jwt_keys.parse,
                                             max_age_s=3600))
    return keys


def token_signed_with(key: str, kid: str, *, sub: str, role: str) -> str:
    """A token with every claim the verifiers require (valid for 10 minutes), signed with ``key``
    and naming ``kid``."""
    s, now = get_settings(), int(time.time())
    claims = {"sub": sub, "role": role, "iss": s.jwt_issuer, "aud": s.jwt_audience, "iat": now, "nbf": now,
              "exp": now + 600, "jti": uuid.uuid4().hex, "ver": 0}
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})


def kid_of_token(token: str) -> str:
    """The kid a token's header names (read without verifying)."""
    return str(jwt.get_unverified_header(token)["kid"])
