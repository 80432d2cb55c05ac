"""Access-token verification in the layer: every forgery is a TokenError, never a crash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from photostack import jwt_keys, tokens
from photostack.config import get_settings
from photostack.tokens import TokenError, issue_access_token, verify_access_token

from tests.signing_keys import install_keys

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def keys() -> Iterator[jwt_keys.KeySet]:
    yield install_keys()
    tokens.signing_keys.reset()


def claims(**kw: object) -> dict[str, object]:
    s = get_settings()
    now = int(time.time())
    base: dict[str, object] = {"sub": "u1", "role": "customer", "iss": s.jwt_issuer, "aud": s.jwt_audience,
                               "iat": now, "nbf": now, "exp": now + 60, "jti": "j", "ver": 0}
    base.update(kw)
    return base


def sign(payload: dict[str, object], *, key: str | None = None, kid: str | None = None) -> str:
    keys = tokens.signing_keys.get().get()
    return jwt.encode(payload, key or keys.current, algorithm="HS256",
                      headers={"kid": kid or keys.current_kid})


def current_kid() -> str:
    return tokens.signing_keys.get().get().current_kid


def test_round_trip_carries_role_and_version() -> None:
    token, ttl = issue_access_token("u1", "photographer", version=3)
    principal = verify_access_token(token)
    assert (principal.user_id, principal.role, principal.version) == ("u1", "photographer", 3)
    assert ttl == 15 * 60


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_alg_none_is_refused() -> None:
    token = b64({"alg": "none", "kid": current_kid()}) + "." + b64(claims()) + "."
    with pytest.raises(TokenError):
        verify_access_token(token)


def test_rs256_token_is_refused_even_signed_with_a_real_key() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), private, algorithm="RS256", headers={"kid": current_kid()})
    with pytest.raises(TokenError, match="algorithm"):
        verify_access_token(token)


def test_hs_token_keyed_with_a_public_key_is_refused() -> None:
    # The classic RS/HS confusion: HMAC keyed with a public key the attacker knows.
    public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    # PyJWT refuses to HMAC with a PEM key, so sign by hand as an attacker would.
    signing_input = b64({"alg": "HS256", "typ": "JWT", "kid": current_kid()}) + "." + b64(claims())
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    token = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with pytest.raises(TokenError):
        verify_access_token(token)


# Overrides, not finished claims: the token is built when the test runs, not when the suite
# is collected, so a long suite cannot turn every case into "token expired".
@pytest.mark.parametrize("overrides,match", [
    ({"exp": -60}, "expired"),
    ({"aud": "someone-else"}, "invalid"),
    ({"iss": "evil"}, "invalid"),
    ({"role": "root"}, "claims"),
    ({"ver": "1"}, "claims"),
])
def test_wrong_claims_are_refused(overrides: dict[str, object], match: str) -> None:
    if overrides.get("exp") == -60:
        overrides = {"exp": int(time.time()) - 60}
    with pytest.raises(TokenError, match=match):
        verify_access_token(sign(claims(**overrides)))


def test_tampered_and_unknown_key_tokens_are_refused() -> None:
    token, _ = issue_access_token("u1", "customer")
    head, body, sig = token.split(".")
    forged_body = b64({**json.loads(base64.urlsafe_b64decode(body + "==")), "role": "admin"})
    with pytest.raises(TokenError):
        verify_access_token(f"{head}.{forged_body}.{sig}")
    with pytest.raises(TokenError, match="key"):
        verify_access_token(sign(claims(), kid="other"))
    for junk in ["", "abc", "a.b.c", "é.é.é"]:
        with pytest.raises(TokenError):
            verify_access_token(junk)
