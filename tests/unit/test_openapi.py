"""docs/openapi.json describes every deployed route, matches the code, and is a valid OpenAPI 3.1 document."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chalice import Chalice  # type: ignore[attr-defined]
from openapi_spec_validator import validate
from photostack.apispec import ApiSpec

from infra.apps import load_app
from infra.deploy import load_template
from infra.openapi import SpecError, build, merged, render, specs

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "openapi.json"
API_FUNCTIONS = {"UsersFunction": "users", "PhotosFunction": "photos", "TransactionsFunction": "transactions"}
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def apps() -> dict[str, Any]:
    return {api: load_app(api) for api in API_FUNCTIONS.values()}


@pytest.fixture(scope="module")
def spec_of() -> dict[str, ApiSpec]:
    return specs()


@pytest.fixture(scope="module")
def document(apps: dict[str, Any], spec_of: dict[str, ApiSpec]) -> dict[str, Any]:
    return build(apps, spec_of)


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in document["paths"].items()
            for method, op in item.items() if method in HTTP_METHODS]


def test_every_template_route_is_in_the_document(document: dict[str, Any]) -> None:
    template = load_template()
    routes = 0
    for function, api in API_FUNCTIONS.items():
        for event in template["Resources"][function]["Properties"]["Events"].values():
            if event["Type"] != "Api":
                continue
            path, method = event["Properties"]["Path"], event["Properties"]["Method"].lower()
            item = document["paths"].get(path)
            assert item is not None and method in item, f"{function}: {method.upper()} {path} undocumented"
            assert api in item[method]["tags"]
            assert any(f"{api}ApiUrl" in server["url"] for server in item["servers"])
            routes += 1
    assert routes == len(operations(document)) + 2  # /health is one operation on three APIs


def test_the_committed_document_is_a_fresh_generation(document: dict[str, Any]) -> None:
    stale = "docs/openapi.json is stale: run python infra/openapi.py"
    assert COMMITTED.read_text() == render(document), stale


def test_every_operation_declares_the_error_shape(document: dict[str, Any]) -> None:
    error_ref = {"$ref": "#/components/schemas/Error"}
    for method, path, op in operations(document):
        responses = op["responses"]
        errors = {s: r for s, r in responses.items() if s == "default" or int(s) >= 400}
        assert "default" in errors and len(errors) >= 2, f"{method} {path} declares no error status"
        for status, response in errors.items():
            assert response["content"]["application/json"]["schema"] == error_ref, f"{method} {path} {status}"
            if status != "default":
                assert response["x-error-codes"], f"{method} {path} {status} lists no codes"
    error = document["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(json.loads(render(document)))


def test_declared_auth_body_and_idempotency_match_the_views(apps: dict[str, Any],
                                                           spec_of: dict[str, ApiSpec]) -> None:
    """The parts of each description that the view's own code shows must agree with it."""
    operations = merged(spec_of).operations
    for api, app in apps.items():
        for path, entries in app.routes.items():
            for method, entry in entries.items():
                op = operations[(method, path)]
                source = inspect.getsource(inspect.unwrap(entry.view_function))
                where = f"{api} {method} {path}"
                assert ("authenticate(" in source) == (op.auth == "bearer"), where
                assert ("roles=" in source) == bool(op.roles), where
                reads_body = any(s in source for s in ("read_json(", "_body()", "raw_body"))
                assert reads_body == (op.body is not None), where
                assert ("idempotency_key(" in source) == (op.idempotency is not None), where


def test_an_undescribed_route_fails_the_build(apps: dict[str, Any], spec_of: dict[str, ApiSpec]) -> None:
    extra = Chalice(app_name="extra")

    @extra.route("/not-described", methods=["GET"])
    def not_described() -> dict[str, str]:
        return {}

    with pytest.raises(SpecError, match="/not-described has no description"):
        build({**apps, "users": extra}, spec_of)


def test_a_description_without_a_route_fails_the_build(apps: dict[str, Any],
                                                       spec_of: dict[str, ApiSpec]) -> None:
    with pytest.raises(SpecError, match="no app serves them"):
        build({"users": apps["users"], "photos": apps["photos"]}, spec_of)


def test_a_route_described_by_two_apis_fails_the_build(apps: dict[str, Any],
                                                      spec_of: dict[str, ApiSpec]) -> None:
    users = spec_of["users"]
    twice = ApiSpec(users.schemas, {**users.operations, **spec_of["photos"].operations}, users.query)
    with pytest.raises(SpecError, match="described twice"):
        build(apps, {**spec_of, "users": twice})


def test_the_generator_reads_product_code_only() -> None:
    """infra/openapi.py builds the document from the functions and the layer, not from tests/ or the CLI."""
    probe = ("import runpy, sys\n"
             "sys.argv = ['openapi.py', '--check']\n"
             "try:\n    runpy.run_path('infra/openapi.py', run_name='__main__')\n"
             "except SystemExit as done:\n    assert not done.code, done.code\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tests', 'photostack_cli')))\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                            check=True, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert result.stdout.strip() == "[]"


def test_upload_limits_are_the_contracts(document: dict[str, Any]) -> None:
    from photostack import contract

    request = document["components"]["schemas"]["UploadRequest"]["properties"]
    assert request["size_bytes"]["maximum"] == contract.MAX_UPLOAD_BYTES
    assert request["content_type"]["enum"] == list(contract.CONTENT_TYPES)
