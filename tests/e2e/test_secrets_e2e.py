"""Secrets through the deployed stack: nothing signed with the old public default gets in, and a
JWT key rotation keeps every valid token working while new ones move to the new key.

The stack generated its own secrets in LocalStack's Secrets Manager; this test reads them the
way the functions do (photostack.secrets), and rotates the keys with the operators' command.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
from photostack import jwt_keys, tokens
from photostack.config import KNOWN_LOCAL_SECRETS, get_settings
from transactions.config import payment_webhook_secret
from transactions.webhooks import signature_header

from infra.rotate_jwt_key import rotate_secret
from tests.conftest import aws_client
from tests.payment_fakes import SimulatedProvider
from tests.signing_keys import kid_of_token, token_signed_with

pytestmark = pytest.mark.e2e

TIMEOUT = 30
PASSWORD = "correct horse battery staple"
OLD_DEFAULT = "local-development-only-secret-change-me!"  # template.yaml's JwtSecret/PaymentWebhookSecret
FUNCTIONS_READING = {  # function -> the secret ARNs it is given
    "photostack-users": {"PHOTOSTACK_JWT_KEYS_SECRET_ARN"},
    "photostack-photos": {"PHOTOSTACK_JWT_KEYS_SECRET_ARN"},
    "photostack-transactions": {"PHOTOSTACK_JWT_KEYS_SECRET_ARN", "PHOTOSTACK_PAYMENT_WEBHOOK_SECRET_ARN"},
    "photostack-upload": set(), "photostack-faces": set(), "photostack-probe": set(),
}


def forged_admin(key: str, kid: str) -> str:
    return token_signed_with(key, kid, sub=f"forger-{uuid.uuid4().hex[:8]}", role="admin")


def apis(stack: dict[str, str]) -> tuple[str, str, str]:
    return (stack["UsersApiUrl"].rstrip("/"), stack["PhotosApiUrl"].rstrip("/"),
            stack["TransactionsApiUrl"].rstrip("/"))


def protected_routes(stack: dict[str, str]) -> list[tuple[str, str, dict[str, Any] | None]]:
    users, photos, money = apis(stack)
    return [
        ("GET", f"{users}/users/me", None),
        ("PATCH", f"{users}/admin/users/{uuid.uuid4()}", {"role": "admin"}),
        ("GET", f"{photos}/events", None),
        ("POST", f"{photos}/events", {"name": "forged", "date": "2026-06-01"}),
        ("GET", f"{money}/wallet", None),
        ("POST", f"{money}/admin/refunds", {"order_id": str(uuid.uuid4())}),
    ]


def call(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
    return requests.request(method, url, headers=headers, json=body, timeout=TIMEOUT)


def test_admin_tokens_forged_with_the_old_default_get_401_from_every_api(stack: dict[str, str]) -> None:
    current = tokens.signing_keys.get().get()
    forgeries = {
        "old default, kid local-1": forged_admin(OLD_DEFAULT, "local-1"),
        "old default, a kid of our shape": forged_admin(OLD_DEFAULT, jwt_keys.kid_of(OLD_DEFAULT)),
        "old default, the stack's current kid": forged_admin(OLD_DEFAULT, current.current_kid),
    }
    for name, token in forgeries.items():
        for method, url, body in protected_routes(stack):
            r = call(method, url, token, body)
            assert r.status_code == 401, f"{name}: {method} {url} -> {r.status_code} {r.text}"
            assert r.json()["error"]["code"] == "invalid_token"


def test_a_webhook_signed_with_the_old_default_secret_is_refused(stack: dict[str, str]) -> None:
    base = stack["TransactionsApiUrl"].rstrip("/")
    user = f"e2e-sec-{uuid.uuid4().hex[:12]}"
    headers = {"Authorization": "Bearer " + tokens.issue_access_token(user, "customer")[0]}
    r = requests.post(f"{base}/wallet/topups", json={"amount_minor": 900, "currency": "EUR"},
                      headers={**headers, "Idempotency-Key": uuid.uuid4().hex}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    hook = SimulatedProvider(OLD_DEFAULT).webhook(r.json()["payment_id"])
    refused = requests.post(f"{base}/webhooks/payments", headers=hook.headers, data=hook.body,
                            timeout=TIMEOUT)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_signature", refused.text
    assert balance(base, headers) == 0
    # The stack's own secret, read from Secrets Manager as the function reads it, is what works.
    secret = payment_webhook_secret()
    assert secret not in KNOWN_LOCAL_SECRETS and len(secret) >= 32
    signed = {**hook.headers, "X-Photostack-Signature": signature_header(secret, hook.body)}
    ok = requests.post(f"{base}/webhooks/payments", headers=signed, data=hook.body, timeout=TIMEOUT)
    assert ok.status_code == 200, ok.text
    assert balance(base, headers) == 900


def balance(base: str, headers: dict[str, str]) -> int:
    wallets = requests.get(f"{base}/wallet", headers=headers, timeout=TIMEOUT).json()["wallets"]
    return sum(w["balance_minor"] for w in wallets if w["currency"] == "EUR")


def test_only_the_functions_needing_a_secret_get_its_arn_and_none_a_value(stack: dict[str, str]) -> None:
    lam = aws_client("lambda")
    arns = {"PHOTOSTACK_JWT_KEYS_SECRET_ARN": stack["JwtSigningKeysSecretArn"],
            "PHOTOSTACK_PAYMENT_WEBHOOK_SECRET_ARN": stack["PaymentWebhookSecretArn"]}
    secret_values = {payment_webhook_secret(), *tokens.signing_keys.get().get().all_keys()}
    deployed = {f["FunctionName"] for page in lam.get_paginator("list_functions").paginate()
                for f in page["Functions"] if f["FunctionName"].startswith("photostack-")}
    assert set(FUNCTIONS_READING) <= deployed
    for function in sorted(deployed):
        expected = FUNCTIONS_READING.get(function, set())  # any other function needs no secret
        variables = lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
        assert {name for name in variables if name.endswith("_SECRET_ARN")} == expected, function
        assert all(variables[name] == arns[name] for name in expected)
        assert not {"PHOTOSTACK_JWT_SECRET", "PHOTOSTACK_PAYMENT_WEBHOOK_SECRET"} & set(variables)
        for value in variables.values():
            assert not any(known in value for known in KNOWN_LOCAL_SECRETS), function
            assert not any(secret in value for secret in secret_values), function


def register_and_login(users: str) -> tuple[str, str]:
    email = f"e2e-rotate-{uuid.uuid4().hex[:12]}@example.com"
    r = requests.post(f"{users}/auth/register", json={"email": email, "password": PASSWORD,
                                                      "display_name": "Rotation", "role": "customer"},
                      timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    return email, login(users, email)


def login(users: str, email: str) -> str:
    r = requests.post(f"{users}/auth/login", json={"email": email, "password": PASSWORD}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def deployed_max_age_s() -> int:
    """The longest PHOTOSTACK_SECRETS_MAX_AGE_S of the functions that verify (30 s on the local stack)."""
    lam = aws_client("lambda")
    return max(int(lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
                   ["PHOTOSTACK_SECRETS_MAX_AGE_S"])
               for name, arns in FUNCTIONS_READING.items() if "PHOTOSTACK_JWT_KEYS_SECRET_ARN" in arns)


def rotate_when_allowed(secretsmanager: Any, secret_id: str, *, keep_s: int,
                        publish_s: int) -> tuple[jwt_keys.KeySet, jwt_keys.KeySet]:
    """Rotate, first waiting out a rotation still being published (this file run twice in a row)."""
    while True:
        try:
            return rotate_secret(secretsmanager, secret_id, now=int(time.time()), keep_s=keep_s,
                                 publish_s=publish_s)
        except jwt_keys.RotationInProgress as exc:
            time.sleep(max(0.5, exc.signs_from - time.time()))


def test_a_rotated_jwt_key_signs_once_every_api_knows_it_and_old_tokens_keep_working(
        stack: dict[str, str]) -> None:
    users, photos, money = apis(stack)
    email, old_token = register_and_login(users)
    # What the CI run that failed had just done: a forged token with a kid of our shape made each
    # API re-read the keys, which holds off the next unknown-kid re-read for 10 s.
    stranger = jwt_keys.new_key()
    for method, url, body in protected_routes(stack):
        assert call(method, url, forged_admin(stranger, jwt_keys.kid_of(stranger)), body).status_code == 401

    max_age_s = deployed_max_age_s()
    keep_s = jwt_keys.retention_s(get_settings().access_token_ttl_s, 300)
    before, after = rotate_when_allowed(aws_client("secretsmanager"), stack["JwtSigningKeysSecretArn"],
                                        keep_s=keep_s, publish_s=jwt_keys.publish_delay_s(max_age_s))
    assert after.next is not None
    old_kid, _ = before.signing_key(time.time())
    assert kid_of_token(old_token) == old_kid and old_kid in after.verification_keys()
    assert after.next.kid not in before.verification_keys()

    # Published, not signing: whatever copy the users function holds, logins keep the old key...
    assert kid_of_token(login(users, email)) == old_kid
    # ...until the new key's time, when every function has re-read the secret: from then on
    # logins get the new key and every API knows it, without an unknown-kid re-read.
    time.sleep(max(0.0, after.next.signs_from - time.time()))
    new_token = login(users, email)
    assert kid_of_token(new_token) == after.next.kid
    for token in (old_token, new_token):
        for url in (f"{users}/users/me", f"{photos}/events", f"{money}/wallet"):
            r = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
            assert r.status_code == 200, f"{url} with kid {kid_of_token(token)}: {r.status_code} {r.text}"
    # This process (its copy is older: 300 s) learns the new kid from the first token that names it.
    assert tokens.verify_access_token(new_token).user_id == tokens.verify_access_token(old_token).user_id
