"""photostack-sam reads template.yaml the way SAM and a local stack would (no I/O)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from infra import deploy
from infra.sam import local_invoke
from infra.sam import template_model as tm

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
OUTPUTS = {  # the shape of .state/stack-outputs.json
    "JwtSigningKeysSecretArn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:photostack/jwt-x",
    "PaymentWebhookSecretArn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:photostack/webhook-y",
    "FacesIndexQueueUrl": "http://127.0.0.1:4566/000000000000/photostack-faces-index",
    "UploadDeadLetterQueueUrl": "http://127.0.0.1:4566/000000000000/photostack-upload-dlq",
    "WebsiteUrl": "http://photostack-web.s3-website.localhost.localstack.cloud:4566",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return deploy.load_template(ROOT / "template.yaml")


def spec(template: dict[str, Any], fn: str | None, outputs: dict[str, str] | None = OUTPUTS,
         parameters: dict[str, str] | None = None,
         env: dict[str, dict[str, str]] | None = None) -> tm.FunctionSpec:
    resolver = tm.Resolver(template, {**deploy.LOCAL_PARAMETERS, **(parameters or {})}, outputs)
    return tm.function_spec(template, fn, resolver, env)


def test_globals_and_the_function_merge_as_in_sam(template: dict[str, Any]) -> None:
    users = spec(template, "UsersFunction")
    assert (users.name, users.handler, users.runtime, users.code_uri) == (
        "photostack-users", "app.app", "python3.13", "functions/users")
    assert (users.timeout_s, users.memory_mb) == (15, 512)  # Globals' timeout, its own memory
    assert users.layers == ["CoreLayer"]
    assert users.environment["PHOTOSTACK_ENV"] == "local"
    assert users.environment["PHOTOSTACK_DATABASE_URL"] == deploy.LOCAL_PARAMETERS["DatabaseUrl"]
    assert users.environment["PHOTOSTACK_LOGIN_MAX_FAILURES_PER_IP"] == "100000"  # !If IsLocal
    assert users.environment["PHOTOSTACK_JWT_KEYS_SECRET_ARN"] == OUTPUTS["JwtSigningKeysSecretArn"]
    assert not users.unresolved
    photos = spec(template, "PhotosFunction")
    assert photos.layers == ["CoreLayer", "FacesLayer"]  # the global layer first


def test_a_function_is_found_by_its_function_name_too(template: dict[str, Any]) -> None:
    assert spec(template, "photostack-upload").logical_id == "UploadFunction"
    with pytest.raises(tm.TemplateError, match="no function 'Nope'"):
        spec(template, "Nope")
    with pytest.raises(tm.TemplateError, match="several functions"):
        spec(template, None)


def test_without_a_stack_resource_values_stay_unset_and_say_why(template: dict[str, Any]) -> None:
    upload = spec(template, "UploadFunction", outputs=None)
    assert "PHOTOSTACK_FACES_QUEUE_URL" not in upload.environment
    assert "stack is not up" in upload.unresolved["PHOTOSTACK_FACES_QUEUE_URL"]
    assert upload.environment["PHOTOSTACK_GRPC_DEADLINE_MS"] == "20000"  # literals still apply
    partial = spec(template, "UploadFunction", outputs={"WebsiteUrl": "x"})
    assert "not among the deployed stack's outputs" in partial.unresolved["PHOTOSTACK_FACES_QUEUE_URL"]


def test_parameter_overrides_change_values_and_conditions(template: dict[str, Any]) -> None:
    staging = spec(template, "UsersFunction", parameters={"DeploymentEnv": "staging"})
    assert staging.environment["PHOTOSTACK_SECRETS_MAX_AGE_S"] == "300"
    assert staging.environment["PHOTOSTACK_LOGIN_MAX_FAILURES_PER_IP"] == "50"
    with pytest.raises(tm.TemplateError, match="condition IsLocal is false"):
        spec(template, "ProbeFunction", parameters={"DeploymentEnv": "staging"})


def test_the_local_sidecar_keeps_secrets_as_long_as_the_local_functions(template: dict[str, Any]) -> None:
    # A rotated JWT key signs once every copy this old has been re-read: a sidecar keeping its
    # copy longer would refuse the new key's tokens (photostack.jwt_keys).
    services = (ROOT / "infra" / "services.sh").read_text()
    sidecar = next(line for line in services.splitlines() if line.startswith("LOCAL_SECRETS_MAX_AGE_S="))
    for fn in ("UsersFunction", "PhotosFunction", "TransactionsFunction"):
        assert spec(template, fn).environment["PHOTOSTACK_SECRETS_MAX_AGE_S"] == sidecar.split("=", 1)[1]


def test_env_vars_file_overrides_only_declared_variables(template: dict[str, Any]) -> None:
    overrides = {"Parameters": {"PHOTOSTACK_REDIS_URL": "redis://elsewhere:1/0"},
                 "UploadFunction": {"PHOTOSTACK_FACES_QUEUE_URL": "http://q", "NOT_DECLARED": "x"}}
    upload = spec(template, "UploadFunction", outputs=None, env=overrides)
    assert upload.environment["PHOTOSTACK_REDIS_URL"] == "redis://elsewhere:1/0"
    assert upload.environment["PHOTOSTACK_FACES_QUEUE_URL"] == "http://q"
    assert "PHOTOSTACK_FACES_QUEUE_URL" not in upload.unresolved
    assert "NOT_DECLARED" not in upload.environment
    assert tm.ignored_overrides(template, upload, overrides) == ["NOT_DECLARED"]


def test_sub_and_getatt_resolve_from_outputs_and_pseudo_parameters(template: dict[str, Any]) -> None:
    resolver = tm.Resolver(template, dict(deploy.LOCAL_PARAMETERS), OUTPUTS)
    assert resolver.resolve(tm_node("!Sub", "${AWS::StackName}/jwt")) == "photostack/jwt"
    assert resolver.resolve(tm_node("!GetAtt", "WebBucket.WebsiteURL")) == OUTPUTS["WebsiteUrl"]
    assert resolver.resolve({"Fn::Sub": "'${WebOrigin}'"}) == "'http://127.0.0.1:4566'"
    missing = resolver.resolve(tm_node("!Sub", "${WebBucket.Arn}/*"))
    assert isinstance(missing, tm.Unresolved)
    with pytest.raises(tm.TemplateError, match="unknown"):
        resolver.resolve(tm_node("!Ref", "NoSuchThing"))


def tm_node(tag: str, value: Any) -> Any:
    return deploy.Tagged(tag, value)


@pytest.mark.parametrize("items,expected", [
    (["Stage=Dev", "RedisUrl=redis://h:1/0"], {"Stage": "Dev", "RedisUrl": "redis://h:1/0"}),
    (["ParameterKey=Stage,ParameterValue=Dev"], {"Stage": "Dev"}),
])
def test_parameter_overrides_take_both_sam_spellings(items: list[str], expected: dict[str, str]) -> None:
    assert tm.parse_parameter_overrides(items) == expected


def test_a_parameter_override_without_a_value_is_refused() -> None:
    with pytest.raises(tm.TemplateError, match="KEY=VALUE"):
        tm.parse_parameter_overrides(["Stage"])


def test_the_same_variables_pass_through_as_in_the_localstack_executor() -> None:
    source = local_invoke.RUNTIME_SCRIPT.with_name("executor.py").read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PASSTHROUGH_ENV":
            assert ast.literal_eval(node.value) == local_invoke.PASSTHROUGH_ENV
            return
    pytest.fail("executor.py has no PASSTHROUGH_ENV")
