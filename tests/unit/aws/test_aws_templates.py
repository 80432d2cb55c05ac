"""The production shape (infra/aws/infra.yaml, sidecar/Dockerfile) agrees with template.yaml and the code.

`make lint` runs cfn-lint, `sam validate --lint` and hadolint on them (infra/aws/lint.sh); these
check what the linters cannot know: which outputs feed which parameters, where secrets come from,
who may reach what.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from infra import rotate_jwt_key
from infra.consul import acl

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]


def load(path: Path) -> dict[str, Any]:
    template, errors = decode(str(path))
    assert not errors, errors
    assert template is not None
    return dict(template)


@pytest.fixture(scope="module")
def infra() -> dict[str, Any]:
    return load(ROOT / "infra" / "aws" / "infra.yaml")


@pytest.fixture(scope="module")
def app() -> dict[str, Any]:
    return load(ROOT / "template.yaml")


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def containers(infra: dict[str, Any], task: str) -> dict[str, dict[str, Any]]:
    return {c["Name"]: c for c in infra["Resources"][task]["Properties"]["ContainerDefinitions"]}


def test_no_parameter_of_either_template_holds_a_secret_default(infra: dict[str, Any],
                                                                 app: dict[str, Any]) -> None:
    for template in (infra, app):
        for name, parameter in template["Parameters"].items():
            if parameter.get("NoEcho") or re.search(r"password|secret|token", name, re.I):
                assert "Default" not in parameter, f"{name} is secret and has a default"
    # The infra stack takes no secret at all: every one is generated in Secrets Manager.
    assert not [name for name, p in infra["Parameters"].items() if p.get("NoEcho")]


def test_every_secret_is_generated_or_built_from_generated_ones(infra: dict[str, Any]) -> None:
    for name, secret in resources(infra, "AWS::SecretsManager::Secret").items():
        props = secret["Properties"]
        if "GenerateSecretString" in props:
            continue
        value = props["SecretString"]
        if value == "{}":  # filled by infra/aws/consul_acl.py
            continue
        text = value["Fn::Sub"][0]
        password = re.search(r"://([^@]*)@", text)
        assert password, f"{name}: {text}"
        assert "{{resolve:secretsmanager:" in password.group(1), f"{name} holds a literal credential"


def test_the_outputs_feed_the_app_template_parameters(infra: dict[str, Any], app: dict[str, Any]) -> None:
    assert {"SubnetIds", "SecurityGroupIds", "ConsulAddr", "DatabaseUrl", "RedisUrl"} <= set(
        app["Parameters"])
    assert {"SubnetIds", "FunctionsSecurityGroupId", "ConsulAddr", "DatabaseUrlSecretArn",
            "RedisUrlSecretArn", "ConsulAclSecretArn"} <= set(infra["Outputs"])
    # The functions' Consul tokens are keys of the secret consul_acl.py writes, named as in acl.py.
    tokens = {name for name in app["Parameters"] if name.startswith("ConsulToken")}
    assert {"ConsulToken" + f.removeprefix("photostack-").capitalize() for f in acl.FUNCTIONS} == tokens


def test_functions_join_the_vpc_only_when_subnets_are_given(app: dict[str, Any]) -> None:
    # LocalStack deploys template.yaml without subnets: no VpcConfig there.
    assert app["Parameters"]["SubnetIds"]["Default"] == ""
    vpc = app["Globals"]["Function"]["VpcConfig"]["Fn::If"]
    assert vpc[0] == "InVpc"
    assert vpc[2] == {"Ref": "AWS::NoValue"}
    joined = {"Fn::Join": [",", {"Ref": "SubnetIds"}]}
    assert app["Conditions"]["InVpc"] == {"Fn::Not": [{"Fn::Equals": [joined, ""]}]}


def test_nothing_is_open_to_an_address_range(infra: dict[str, Any]) -> None:
    for name, group in resources(infra, "AWS::EC2::SecurityGroup").items():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert "SourceSecurityGroupId" in rule, f"{name} admits an address range"
    for name, rule in resources(infra, "AWS::EC2::SecurityGroupIngress").items():
        assert "SourceSecurityGroupId" in rule["Properties"], f"{name} admits an address range"


def test_only_the_functions_reach_the_sidecar(infra: dict[str, Any]) -> None:
    to_sidecar = [r["Properties"] for r in resources(infra, "AWS::EC2::SecurityGroupIngress").values()
                  if r["Properties"]["GroupId"] == {"Ref": "SidecarSecurityGroup"}]
    assert to_sidecar == [{**to_sidecar[0], "SourceSecurityGroupId": {"Ref": "FunctionsSecurityGroup"},
                           "FromPort": 50051, "ToPort": 50051}]


def test_the_data_is_private_and_encrypted(infra: dict[str, Any]) -> None:
    db = infra["Resources"]["Database"]["Properties"]
    assert db["PubliclyAccessible"] is False and db["StorageEncrypted"] is True
    assert infra["Resources"]["DatabaseProxy"]["Properties"]["RequireTLS"] is True
    redis = infra["Resources"]["Redis"]["Properties"]
    assert redis["TransitEncryptionEnabled"] is True and redis["AtRestEncryptionEnabled"] is True
    assert "{{resolve:secretsmanager:" in redis["AuthToken"]["Fn::Sub"]
    assert infra["Resources"]["DatabaseUrlSecret"]["Properties"]["SecretString"]["Fn::Sub"][0].endswith(
        "sslmode=require")


def test_the_sidecar_runs_two_instances_with_its_secrets_from_secrets_manager(infra: dict[str, Any]) -> None:
    assert infra["Parameters"]["SidecarDesiredCount"]["Default"] >= 2
    sidecar = containers(infra, "SidecarTask")["sidecar"]
    environment = {e["Name"] for e in sidecar["Environment"]}
    secrets = {s["Name"] for s in sidecar["Secrets"]}
    assert {"PHOTOSTACK_DATABASE_URL", "PHOTOSTACK_REDIS_URL", "PHOTOSTACK_CONSUL_TOKEN"} <= secrets
    assert not environment & secrets
    assert {"PHOTOSTACK_ENV", "PHOTOSTACK_CONSUL_ADDR", "PHOTOSTACK_JWT_KEYS_SECRET_ARN"} <= environment
    token = next(s for s in sidecar["Secrets"] if s["Name"] == "PHOTOSTACK_CONSUL_TOKEN")
    assert token["ValueFrom"]["Fn::Sub"].endswith(f":{acl.SIDECAR}::")


def test_the_sidecar_keeps_secrets_as_long_as_the_functions_and_the_rotation_waits_for_both(
        infra: dict[str, Any], app: dict[str, Any]) -> None:
    # A rotated JWT key signs once every copy this old has been re-read (photostack.jwt_keys).
    sidecar = containers(infra, "SidecarTask")["sidecar"]
    name = "PHOTOSTACK_SECRETS_MAX_AGE_S"
    sidecar_s = next(e["Value"] for e in sidecar["Environment"] if e["Name"] == name)
    functions = app["Globals"]["Function"]["Environment"]["Variables"][name]
    assert functions == {"Fn::If": ["IsLocal", "30", sidecar_s]}
    assert int(sidecar_s) == rotate_jwt_key.AWS_MAX_AGE_S


def test_each_sidecar_has_its_own_consul_agent_on_loopback(infra: dict[str, Any]) -> None:
    # Consul hands a leaf it holds to any caller of its HTTP API (sidecar/README.md): keep it on loopback.
    client = containers(infra, "SidecarTask")["consul-client"]
    assert "-client=127.0.0.1" in client["Command"]
    assert "-server" not in client["Command"]
    sidecar = containers(infra, "SidecarTask")["sidecar"]
    assert {"Name": "PHOTOSTACK_CONSUL_ADDR", "Value": "127.0.0.1:8500"} in sidecar["Environment"]
    assert infra["Resources"]["ConsulServerService"]["Properties"]["DesiredCount"] == 3


def test_the_dockerfile_copies_what_exists_and_its_context_lets_it_in() -> None:
    dockerfile = (ROOT / "sidecar" / "Dockerfile").read_text()
    ignore = [line for line in (ROOT / "sidecar" / "Dockerfile.dockerignore").read_text().splitlines()
              if line and not line.startswith("#")]
    sources = [src for line in dockerfile.splitlines() if line.startswith("COPY ")
               for src in line.split()[1:-1]]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        allowed = False
        for rule in ignore:  # last match wins, as in .dockerignore
            pattern = rule.removeprefix("!").rstrip("/")
            if fnmatch.fnmatch(source, pattern) or source.startswith(pattern + "/"):
                allowed = rule.startswith("!")
        assert allowed, f"{source} is left out of the build context"
    assert os.access(ROOT / "sidecar" / "docker-entrypoint.sh", os.X_OK)
    assert re.search(r"^USER \d+$", dockerfile, re.M), "the container must not run as root"


def test_the_infra_template_is_cfn_lint_clean_and_the_dockerfile_hadolint_clean() -> None:
    # The same checks as `make lint` (infra/aws/lint.sh), minus the SAM CLI (its own virtualenv).
    import subprocess
    import sys

    bin_dir = Path(sys.executable).parent
    for command in ([str(bin_dir / "cfn-lint"), str(ROOT / "infra" / "aws" / "infra.yaml")],
                    [str(bin_dir / "hadolint"), "--failure-threshold", "info",
                     str(ROOT / "sidecar" / "Dockerfile")]):
        result = subprocess.run(command, capture_output=True, text=True, timeout=240)
        assert result.returncode == 0, result.stdout + result.stderr
