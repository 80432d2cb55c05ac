"""`photostack-sam local invoke` runs a function of template.yaml without Docker, in the
Lambda runtime mirror under the LocalStack executor's own runtime.py (no deployed stack used:
only the probe function, which needs no service)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
COMMAND = [sys.executable, str(ROOT / "infra/sam/local_invoke.py"), "local", "invoke"]
PROBE_EVENT = json.loads((ROOT / "events/probe-ok.json").read_text())


def invoke(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], input=stdin, capture_output=True, text=True, timeout=60,
                          env=env, cwd=ROOT)


def probe(action: str) -> str:
    event: dict[str, Any] = json.loads(json.dumps(PROBE_EVENT))
    event["pathParameters"] = {"action": action}
    event["path"] = f"/probe/{action}"
    return json.dumps(event)


def test_a_sample_event_prints_the_result_on_stdout_and_the_logs_with_a_report_on_stderr() -> None:
    run = invoke("ProbeFunction", "-e", "events/probe-ok.json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)  # stdout is the result JSON and nothing else
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"ok": True, "function": "photostack-probe"}
    assert re.search(r"^START RequestId: \S+ Version: \$LATEST$", run.stderr, re.M)
    assert re.search(r"^REPORT RequestId: \S+\tDuration: [\d.]+ ms\t.*Memory Size: 128 MB", run.stderr, re.M)


def test_the_event_is_read_from_stdin_with_dash_and_the_template_settings_apply() -> None:
    run = invoke("ProbeFunction", "-e", "-", stdin=probe("env"))
    assert run.returncode == 0, run.stderr
    body = json.loads(json.loads(run.stdout)["body"])
    assert body["AWS_LAMBDA_FUNCTION_NAME"] == "photostack-probe"
    assert body["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert body["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "2"
    assert body["PHOTOSTACK_ENV"] == "local"
    assert 0 < body["remaining_ms"] <= 2000


def test_a_function_error_prints_the_error_and_exits_non_zero() -> None:
    run = invoke("ProbeFunction", "-e", "-", stdin=probe("raise"))
    assert run.returncode == 1
    error = json.loads(run.stdout)
    assert (error["errorType"], error["errorMessage"]) == ("RuntimeError", "probe: raised on purpose")
    assert "Traceback" in run.stderr and "REPORT RequestId" in run.stderr


def test_a_timeout_is_reported_as_lambda_does() -> None:
    run = invoke("ProbeFunction", "-e", "-", stdin=probe("sleep"))
    assert run.returncode == 1
    assert json.loads(run.stdout)["errorMessage"] == "Task timed out after 2.00 seconds"
    assert "Task timed out after 2.00 seconds" in run.stderr


def test_env_vars_and_parameter_overrides_as_in_sam(tmp_path: Path) -> None:
    env_vars = tmp_path / "env.json"
    env_vars.write_text(json.dumps({"ProbeFunction": {"PHOTOSTACK_ENV": "overridden", "UNDECLARED": "x"}}))
    run = invoke("ProbeFunction", "-e", "-", "--env-vars", str(env_vars), stdin=probe("env"))
    assert run.returncode == 0, run.stderr
    assert json.loads(json.loads(run.stdout)["body"])["PHOTOSTACK_ENV"] == "overridden"
    assert "UNDECLARED is not declared in the template" in run.stderr
    # The probe exists only in local stacks: a staging stack has no such function.
    run = invoke("ProbeFunction", "-e", "events/probe-ok.json",
                 "--parameter-overrides", "DeploymentEnv=staging")
    assert run.returncode == 2
    assert "its condition IsLocal is false" in run.stderr


def test_a_handler_that_cannot_be_imported_is_an_init_error(tmp_path: Path) -> None:
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "broken.py").write_text("import no_such_module_here\n")
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Broken:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {CodeUri: fn, Handler: broken.handler, Runtime: python3.13, Timeout: 3}\n")
    run = invoke("-t", str(tmp_path / "template.yaml"), "-e", "-", stdin="{}")
    assert run.returncode == 1
    assert json.loads(run.stdout)["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'no_such_module_here'" in run.stderr


def test_without_the_stack_it_says_what_it_cannot_reach() -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()),
           "PHOTOSTACK_AWS_ENDPOINT": "http://127.0.0.1:9", "PHOTOSTACK_DATABASE_URL": "postgresql://u:p@127.0.0.1:9/x"}
    run = invoke("UploadFunction", "-e", "events/probe-ok.json", "--parameter-overrides",
                 "RedisUrl=redis://127.0.0.1:9/0 ConsulAddr=127.0.0.1:9 SidecarAddr=127.0.0.1:9", env=env)
    assert "the local stack is not up" in run.stderr
    assert ("PHOTOSTACK_FACES_QUEUE_URL left unset: FacesIndexQueue is a resource of the deployed stack"
            in run.stderr)
    for service in ("LocalStack", "PostgreSQL", "Redis", "Consul", "the photo sidecar"):
        assert f"cannot reach {service} at 127.0.0.1:9" in run.stderr, run.stderr
    assert "REPORT RequestId" in run.stderr  # it still runs the function


def test_bad_input_is_a_clear_usage_error() -> None:
    run = invoke("NoSuchFunction", "-e", "events/probe-ok.json")
    assert run.returncode == 2 and "no function 'NoSuchFunction'" in run.stderr
    run = invoke("ProbeFunction", "-e", "-", stdin="{not json")
    assert run.returncode == 2 and "is not JSON" in run.stderr
