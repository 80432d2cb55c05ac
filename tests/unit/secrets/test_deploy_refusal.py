"""infra/deploy.py refuses any environment but local while a known local value is around."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.deploy import load_template, parse_args, refusals

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
OLD_DEFAULT = "local-development-only-secret-change-me!"
REAL = {"DatabaseUrl": "postgresql://app:9f8e7d6c5b4a@db.internal:5432/photostack",
        "RedisUrl": "redis://cache.internal:6379/0"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def test_the_template_ships_no_secret_and_no_secret_parameter(template: dict[str, Any]) -> None:
    assert not {"JwtSecret", "PaymentWebhookSecret"} & set(template["Parameters"])
    assert "Default" not in template["Parameters"]["DatabaseUrl"]
    assert refusals("production", REAL, template, {}) == []


def test_a_known_local_value_in_a_parameter_is_refused(template: dict[str, Any]) -> None:
    found = refusals("staging", {**REAL, "DatabaseUrl": "postgresql://photostack:photostack@db/photostack"},
                     template, {})
    assert found == ["parameter DatabaseUrl"]
    found = refusals("production", {**REAL, "ConsulAddr": OLD_DEFAULT}, template, {})
    assert found == ["parameter ConsulAddr"]


def test_a_template_default_or_literal_environment_value_is_refused(template: dict[str, Any]) -> None:
    doctored = {**template, "Parameters": {**template["Parameters"],
                                          "JwtSecret": {"Type": "String", "Default": OLD_DEFAULT}}}
    doctored["Globals"] = {"Function": {"Environment": {"Variables": {"PHOTOSTACK_JWT_SECRET": OLD_DEFAULT}}}}
    found = refusals("staging", REAL, doctored, {})
    assert any(f.startswith("parameter JwtSecret (its template default") for f in found)
    assert "Globals environment variable PHOTOSTACK_JWT_SECRET" in found


def test_a_known_local_value_in_the_shell_environment_is_refused(template: dict[str, Any]) -> None:
    found = refusals("production", REAL, template, {"PHOTOSTACK_PAYMENT_WEBHOOK_SECRET": OLD_DEFAULT})
    assert found == ["environment variable PHOTOSTACK_PAYMENT_WEBHOOK_SECRET of this shell"]


def test_local_takes_the_local_values(template: dict[str, Any]) -> None:
    env, parameters = parse_args([])
    assert env == "local" and parameters["DeploymentEnv"] == "local"
    assert refusals(env, parameters, template, {"PHOTOSTACK_X": OLD_DEFAULT}) == []
    env, parameters = parse_args(["--env", "staging", "--parameter", "RedisUrl=redis://r:6379/0"])
    assert parameters == {"RedisUrl": "redis://r:6379/0", "DeploymentEnv": "staging"}  # nothing local added


def test_the_deploy_command_stops_before_building_or_connecting() -> None:
    # Pointed at a closed port: a deploy that went ahead would fail to connect, not deploy.
    env = {**os.environ, "PHOTOSTACK_AWS_ENDPOINT": "http://127.0.0.1:9", "PHOTOSTACK_STACK": "refused-test",
           "PHOTOSTACK_JWT_SECRET": OLD_DEFAULT}
    result = subprocess.run([sys.executable, str(ROOT / "infra" / "deploy.py"), "--env", "staging",
                             "--parameter", f"DatabaseUrl={REAL['DatabaseUrl']}"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "refusing to deploy DeploymentEnv='staging'" in result.stderr
    assert "PHOTOSTACK_JWT_SECRET" in result.stderr
    assert "deploying stack" not in result.stdout
