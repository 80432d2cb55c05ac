"""infra/aws/consul_acl.py: what it stores in the Consul ACL secret (no Consul needed here)."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infra.aws import consul_acl

pytestmark = pytest.mark.unit


def test_first_run_makes_a_uuid_for_every_token_and_the_client_agent_config() -> None:
    document = consul_acl.planned({})
    names = (consul_acl.MANAGEMENT, *consul_acl.TOKEN_NAMES)
    assert all(consul_acl.is_token(document[name]) for name in names)
    assert len({document[name] for name in names}) == len(names)
    assert json.loads(document[consul_acl.CLIENT_CONFIG]) == {
        "acl": {"tokens": {"agent": document[consul_acl.AGENT]}}}


def test_stored_tokens_are_kept_and_malformed_ones_replaced() -> None:
    first = consul_acl.planned({})
    again = consul_acl.planned({**first, "photo-sidecar": "not-a-uuid", "photostack-photos": ""})
    assert again[consul_acl.MANAGEMENT] == first[consul_acl.MANAGEMENT]
    assert again["photostack-upload"] == first["photostack-upload"]
    assert again["photo-sidecar"] != "not-a-uuid" and consul_acl.is_token(again["photo-sidecar"])
    assert consul_acl.is_token(again["photostack-photos"])


def test_a_secret_that_is_not_a_json_object_stops_the_run() -> None:
    with pytest.raises(SystemExit, match="not JSON"):
        consul_acl.parse_stored("{oops")
    with pytest.raises(SystemExit, match="JSON object"):
        consul_acl.parse_stored("[]")
    assert consul_acl.parse_stored("") == {}


def test_the_state_files_are_what_acl_apply_reads_and_private(tmp_path: Path) -> None:
    document = consul_acl.planned({})
    consul_acl.write_state(tmp_path, document)
    assert (tmp_path / "management.token").read_text().strip() == document[consul_acl.MANAGEMENT]
    for name in consul_acl.TOKEN_NAMES:
        path = tmp_path / "tokens" / f"{name}.token"
        assert path.read_text().strip() == document[name]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_secrets_manager_adapter_reads_and_writes_the_whole_secret() -> None:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(Name="photostack-infra/consul-acl", SecretString="{}")["ARN"]
        secret = consul_acl.SecretsManagerSecret(arn, client)
        assert secret.read() == "{}"
        value = json.dumps({"management": str(uuid.uuid4())})
        secret.write(value)
        assert secret.read() == value
