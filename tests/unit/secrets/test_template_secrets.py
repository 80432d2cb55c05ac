"""template.yaml: the stack generates the secrets; each function reads only what it needs."""

from __future__ import annotations

from typing import Any

import pytest

from infra.deploy import Tagged, load_template

pytestmark = pytest.mark.unit

NEEDS = {  # function -> the secrets it reads, and why
    "UsersFunction": {"JwtSigningKeysSecret"},  # signs and verifies access tokens
    "PhotosFunction": {"JwtSigningKeysSecret"},  # verifies
    "TransactionsFunction": {"JwtSigningKeysSecret", "PaymentWebhookSecret"},  # verifies; webhooks
    "UploadFunction": set(), "FacesFunction": set(), "ProbeFunction": set(),
}
ENV_VAR = {"JwtSigningKeysSecret": "PHOTOSTACK_JWT_KEYS_SECRET_ARN",
           "PaymentWebhookSecret": "PHOTOSTACK_PAYMENT_WEBHOOK_SECRET_ARN"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def refs(value: Any) -> set[str]:
    if isinstance(value, Tagged):
        return {value.value} if value.tag == "!Ref" else refs(value.value)
    if isinstance(value, dict):
        return {r for v in value.values() for r in refs(v)}
    if isinstance(value, list):
        return {r for v in value for r in refs(v)}
    return set()


def test_the_secrets_are_generated_by_the_stack(template: dict[str, Any]) -> None:
    for name in ENV_VAR:
        secret = template["Resources"][name]
        assert secret["Type"] == "AWS::SecretsManager::Secret"
        generate = secret["Properties"]["GenerateSecretString"]
        assert generate["PasswordLength"] >= 32
        assert "SecretString" not in secret["Properties"]
    keys = template["Resources"]["JwtSigningKeysSecret"]["Properties"]["GenerateSecretString"]
    assert (keys["SecretStringTemplate"], keys["GenerateStringKey"]) == ("{}", "current")  # jwt_keys.parse


def test_no_function_gets_a_secret_value_and_only_the_functions_that_need_one_get_its_arn(
        template: dict[str, Any]) -> None:
    global_env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert not refs(global_env) & set(ENV_VAR)
    resources = template["Resources"]
    functions = [name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]
    assert set(NEEDS) <= set(functions)
    for function in functions:
        needs = NEEDS.get(function, set())  # a function not named above needs no secret
        props = template["Resources"][function]["Properties"]
        variables = (props.get("Environment") or {}).get("Variables", {})
        given = {secret for secret, var in ENV_VAR.items() if var in variables}
        assert given == needs, function
        for secret in needs:
            assert refs(variables[ENV_VAR[secret]]) == {secret}
        policies = [p for p in props.get("Policies", []) if "AWSSecretsManagerGetSecretValuePolicy" in p]
        readable = {s for p in policies for s in refs(p)}
        assert readable == needs, function
        assert len(policies) == len(needs), f"{function}: one read policy per secret"
