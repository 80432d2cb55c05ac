"""template.yaml is the deployment source of truth: it must agree with the code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.deploy import lifecycle_rules, load_template
from tests.apps import load_app

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
API_FUNCTIONS = {"UsersFunction": "users", "PhotosFunction": "photos", "TransactionsFunction": "transactions"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def template_routes(template: dict[str, Any], function: str) -> set[tuple[str, str]]:
    events = template["Resources"][function]["Properties"]["Events"]
    return {(e["Properties"]["Method"].upper(), e["Properties"]["Path"])
            for e in events.values() if e["Type"] == "Api"}


def app_routes(domain: str) -> set[tuple[str, str]]:
    app = load_app(domain)
    return {(method, path) for path, entries in app.routes.items() for method in entries}


@pytest.mark.parametrize("function", sorted(API_FUNCTIONS))
def test_every_chalice_route_has_exactly_one_api_event(template: dict[str, Any], function: str) -> None:
    assert template_routes(template, function) == app_routes(API_FUNCTIONS[function])


def test_every_function_points_at_code_that_exists(template: dict[str, Any]) -> None:
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        module, _, attribute = props["Handler"].rpartition(".")
        source = ROOT / props["CodeUri"] / (module.replace(".", "/") + ".py")
        assert source.is_file(), f"{name}: {source} missing"
        assert f"{attribute}" in source.read_text(), f"{name}: {attribute} not defined in {source.name}"


def test_the_upload_function_is_triggered_by_the_uploads_bucket(template: dict[str, Any]) -> None:
    upload = template["Resources"]["UploadFunction"]["Properties"]
    event = upload["Events"]["OriginalUploaded"]
    assert event["Type"] == "S3"
    assert event["Properties"]["Bucket"].value == "UploadsBucket"
    assert upload["MemorySize"] <= 512
    on_failure = upload["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"


def test_template_is_cfn_lint_clean() -> None:
    import subprocess
    import sys

    result = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), str(ROOT / "template.yaml")],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_uploads_bucket_aborts_incomplete_multipart_uploads(template: dict[str, Any]) -> None:
    """The backstop for a multipart upload the reconciler could not abort (upload/reconcile.py)."""
    rules = template["Resources"]["UploadsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert [r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] for r in rules
            if r["Status"] == "Enabled" and "AbortIncompleteMultipartUpload" in r] == [1]
    # What deploy.py puts on the LocalStack bucket (its CloudFormation leaves the rules out).
    assert lifecycle_rules(rules) == [{"ID": "abort-incomplete-multipart-uploads", "Status": "Enabled",
                                       "Filter": {"Prefix": ""},
                                       "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]
