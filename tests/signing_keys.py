"""JWT signing keys for tests that issue and verify tokens in-process, without the secret store."""

from __future__ import annotations

from photostack import jwt_keys, tokens
from photostack.secrets import CachedSecret


def install_keys(keys: jwt_keys.KeySet | None = None) -> jwt_keys.KeySet:
    """Make this process sign and verify with ``keys`` (fresh ones by default); undo with
    ``tokens.signing_keys.reset()``."""
    keys = keys or jwt_keys.KeySet(jwt_keys.new_key())
    tokens.signing_keys.install(CachedSecret("test signing keys", lambda: jwt_keys.dump(keys), jwt_keys.parse,
                                             max_age_s=3600))
    return keys
