"""Secrets through the deployed stack: nothing signed with the old public default gets in, and a
JWT key rotation keeps every valid token working while new ones move to the new key.

The stack generated its own secrets in LocalStack's Secrets Manager; this test reads them the
way the functions do (photostack.secrets), and rotates the keys with the operators' command.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest
import requests
from photostack import jwt_keys, tokens
from photostack.config import KNOWN_LOCAL_SECRETS, get_settings
from transactions.config import payment_webhook_secret
from transactions.webhooks import signature_header

from infra.rotate_jwt_key import rotate_secret
from tests.conftest import aws_client
from tests.payment_fakes import SimulatedProvider

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
    s = get_settings()
    now = int(time.time())
    claims = {"sub": f"forger-{uuid.uuid4().hex[:8]}", "role": "admin", "iss": s.jwt_issuer,
              "aud": s.jwt_audience, "iat": now, "nbf": now, "exp": now + 600, "jti": "forged", "ver": 0}
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})


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


def kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def test_rotating_the_jwt_key_keeps_old_tokens_valid_and_new_logins_use_the_new_key(
        stack: dict[str, str]) -> None:
    users, photos, money = apis(stack)
    email, old_token = register_and_login(users)
    secretsmanager = aws_client("secretsmanager")
    keep_s = jwt_keys.retention_s(get_settings().access_token_ttl_s, 300)
    before, after = rotate_secret(secretsmanager, stack["JwtSigningKeysSecretArn"], now=int(time.time()),
                                  keep_s=keep_s)
    assert kid(old_token) in before.verification_keys() and kid(old_token) in after.verification_keys()
    assert after.current_kid != before.current_kid

    # The users function signs with the new key once its copy ages out (30 s on the local stack).
    started, new_token = time.monotonic(), login(users, email)
    while kid(new_token) != after.current_kid:
        assert time.monotonic() - started < 90, "the users function still signs with the retired key"
        time.sleep(3)
        new_token = login(users, email)
    print(f"\nnew logins signed with the new kid after {time.monotonic() - started:.1f} s")

    for token in (old_token, new_token):
        for url in (f"{users}/users/me", f"{photos}/events", f"{money}/wallet"):
            r = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
            assert r.status_code == 200, f"{url} with kid {kid(token)}: {r.status_code} {r.text}"
    # This process (like the sidecar) learns the new kid from the first token that names it.
    assert tokens.verify_access_token(new_token).user_id == tokens.verify_access_token(old_token).user_id
