"""photostack.secrets and the rotation command against LocalStack's real Secrets Manager.

Each test makes a secret of its own (deleted afterwards), so the deployed stack's secrets are
never touched; the last test only reads the stack's keys, from another process, as the photo
sidecar does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from photostack import jwt_keys, secrets, tokens
from photostack.config import get_settings, reset_settings
from photostack.secrets import SecretUnavailable, read_secret
from photostack.tokens import TokenError, issue_access_token, verify_access_token

from infra.rotate_jwt_key import rotate_secret
from tests.conftest import aws_client
from tests.signing_keys import kid_of_token, token_signed_with

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def sm() -> Any:
    return aws_client("secretsmanager")


@pytest.fixture
def keys_secret(sm: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A keys secret of this test's own, as CloudFormation creates it, and this process pointed at it."""
    name = f"photostack-test/{uuid.uuid4().hex}/jwt-signing-keys"
    sm.create_secret(Name=name, SecretString=json.dumps({"current": jwt_keys.new_key()}))
    monkeypatch.setenv("PHOTOSTACK_JWT_KEYS_SECRET_ARN", name)
    monkeypatch.setenv("PHOTOSTACK_UNKNOWN_KID_REFRESH_S", "1")
    tokens.signing_keys.reset()
    secrets.secretsmanager.reset()
    yield name
    tokens.signing_keys.reset()
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_tokens_are_signed_and_verified_with_the_keys_in_the_store(keys_secret: str, sm: Any) -> None:
    stored = jwt_keys.parse(sm.get_secret_value(SecretId=keys_secret)["SecretString"])
    token, _ = issue_access_token("u1", "photographer")
    assert verify_access_token(token).user_id == "u1"
    import jwt

    assert jwt.get_unverified_header(token)["kid"] == stored.current_kid


def test_the_rotation_command_publishes_the_new_key_before_it_signs_and_keeps_old_tokens(
        keys_secret: str, sm: Any) -> None:
    old_token, _ = issue_access_token("u1", "customer")  # this process's copy: from before the rotation
    before, after = rotate_secret(sm, keys_secret, now=int(time.time()), keep_s=1500, publish_s=30)
    assert after.current == before.current and after.next is not None
    assert after.next.kid not in before.verification_keys()
    # A token of the new key, as a signer issues once its time has come, meets the old copy:
    # the unknown kid makes this process read the secret again.
    time.sleep(1.1)  # PHOTOSTACK_UNKNOWN_KID_REFRESH_S since the copy was read
    new_token = token_signed_with(after.next.key, after.next.kid, sub="u2", role="customer")
    assert verify_access_token(new_token).user_id == "u2"
    assert verify_access_token(old_token).user_id == "u1"
    assert kid_of_token(issue_access_token("u3", "customer")[0]) == before.current_kid  # not before its time
    assert kid_of_token(issue_access_token("u3", "customer", now=after.next.signs_from)[0]) == after.next.kid
    # A second rotation much later drops the first key: its tokens have long expired.
    _, pruned = rotate_secret(sm, keys_secret, now=after.next.signs_from + 1500, keep_s=1500, publish_s=30)
    assert pruned.current == after.next.key and before.current not in pruned.all_keys()
    assert pruned.next is not None
    time.sleep(1.1)
    with pytest.raises(TokenError):  # read again through the unknown kid of a token of the newest key
        verify_access_token(jwt_sign_with(pruned.next.key))
    assert tokens.signing_keys.get().get() == pruned
    with pytest.raises(TokenError, match="unknown signing key"):
        verify_access_token(old_token)


def jwt_sign_with(key: str) -> str:
    import jwt

    return jwt.encode({"sub": "x"}, key, algorithm="HS256", headers={"kid": jwt_keys.kid_of(key)})


def test_a_missing_secret_is_unavailable_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets.secretsmanager.reset()
    with pytest.raises(SecretUnavailable, match="ResourceNotFoundException") as caught:
        read_secret(f"photostack-test/{uuid.uuid4().hex}/missing")
    assert caught.value.status == 503


def test_an_unreachable_store_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    reset_settings()  # the platform's variables are read once per process, as a cold start does
    secrets.secretsmanager.reset()
    try:
        with pytest.raises(SecretUnavailable, match="unreachable"):
            read_secret("photostack/jwt-signing-keys")
    finally:
        secrets.secretsmanager.reset()


def test_a_process_outside_localstack_verifies_with_the_stacks_keys(stack: dict[str, str]) -> None:
    # What the photo sidecar does: nothing configured but PHOTOSTACK_ENV=local, keys read lazily
    # from the local stack's secret by name, the same that the deployed functions read by ARN.
    tokens.signing_keys.reset()
    token, _ = issue_access_token("sidecar-caller", "customer")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PHOTOSTACK_"))}
    code = ("import sys; from photostack.tokens import verify_access_token;"
            "print(verify_access_token(sys.argv[1]).user_id)")
    result = subprocess.run([sys.executable, "-c", code, token], cwd=ROOT, capture_output=True, text=True,
                            env={**env, "PYTHONPATH": str(ROOT / "layers" / "core" / "python")}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "sidecar-caller"
    assert get_settings().jwt_keys_secret_arn == "photostack/jwt-signing-keys"
    assert stack["JwtSigningKeysSecretArn"].split(":")[-1].startswith("photostack/jwt-signing-keys")
