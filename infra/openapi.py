"""Write docs/openapi.json: the OpenAPI 3.1 document of the users, photos and transactions APIs.

    python infra/openapi.py           write docs/openapi.json
    python infra/openapi.py --check   exit 1 if the committed file differs from a fresh build

:func:`build` walks the route tables of the three Chalice apps (``app.routes``) and
describes each route with its entry in the function's own ``<domain>/api_spec.py`` (beside
``app.py``; the shared building blocks and GET /health are ``photostack.apispec``). A route
without an entry, or an entry without a route, is an error, so the document cannot drift
from the apps; a unit test checks the committed file against a fresh build.

Every operation answers errors as ``{"error": {"code", "message"}}`` (schema ``Error``);
each error status lists its codes in ``x-error-codes``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "openapi.json"
APIS = ("users", "photos", "transactions")

for extra in (ROOT, ROOT / "layers" / "core" / "python"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from photostack.apispec import COMMON, ApiSpec, Operation, Schema, ref  # noqa: E402

from infra.apps import load_app  # noqa: E402

API_TITLES = {"users": "Users API", "photos": "Photos API", "transactions": "Transactions API"}
STACK_OUTPUT = {"users": "UsersApiUrl", "photos": "PhotosApiUrl", "transactions": "TransactionsApiUrl"}
ERROR_CONTENT = {"application/json": {"schema": ref("Error")}}


class SpecError(Exception):
    """The apps and their descriptions (``<domain>/api_spec.py``) disagree."""


def _server(api: str) -> dict[str, Any]:
    var = f"{api}ApiUrl"
    return {
        "url": f"{{{var}}}",
        "description": f"{API_TITLES[api]}: the stack output {STACK_OUTPUT[api]}",
        "variables": {var: {
            "default": f"http://127.0.0.1:4566/restapis/{api}-api-id/Prod/_user_request_",
            "description": f"{STACK_OUTPUT[api]} from .state/stack-outputs.json (local) or the "
                           "CloudFormation stack outputs (AWS)",
        }},
    }


def _implied_errors(op: Operation) -> dict[int, set[str]]:
    """Errors every view built this way can answer (see photostack.http)."""
    implied: dict[int, set[str]] = {503: {"service_unavailable"}}
    if op.auth == "bearer":
        implied.setdefault(401, set()).update({"missing_token", "invalid_token", "account_disabled",
                                               "token_revoked"})
    if op.roles:
        implied.setdefault(403, set()).add("wrong_role")
    if op.body:
        implied.setdefault(400, set()).update({"invalid_json", "json_too_deep"})
        implied.setdefault(413, set()).add("payload_too_large")
        implied.setdefault(415, set()).add("unsupported_media_type")  # photostack.http.require_json_body
    if op.idempotency == "required":
        implied.setdefault(400, set()).update({"missing_idempotency_key", "invalid_idempotency_key"})
    if op.query:
        implied.setdefault(400, set()).add("bad_request")
    for status, codes in op.errors.items():
        implied.setdefault(status, set()).update(codes)
    return implied


def _operation(api: str, method: str, path: str, view_name: str, view_args: list[str],
               op: Operation, query: dict[str, Schema]) -> dict[str, Any]:
    declared_args = re.findall(r"{(\w+)}", path)
    if declared_args != list(view_args):
        raise SpecError(f"{method} {path}: view arguments {view_args} differ from the path's")
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in declared_args
    ]
    params += [query[name] for name in op.query]
    if op.idempotency:
        params.append({
            "name": "Idempotency-Key", "in": "header", "required": op.idempotency == "required",
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:\\-]{8,128}$"}
            if op.idempotency == "required" else {"type": "string", "maxLength": 200},
            "description": "the same key and body return the first answer instead of acting twice",
        })
    if op.auth == "signature":
        params.append({"name": "X-Photostack-Signature", "in": "header", "required": True,
                       "schema": {"type": "string"},
                       "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>"})
    status, schema = op.ok
    ok: dict[str, Any] = {"description": HTTPStatus(status).phrase}
    if schema is not None:
        ok["content"] = {"application/json": {"schema": ref(schema)}}
    responses: dict[str, Any] = {str(status): ok}
    for error_status, codes in sorted(_implied_errors(op).items()):
        ordered = sorted(codes)
        responses[str(error_status)] = {
            "description": f"{HTTPStatus(error_status).phrase}: " + ", ".join(ordered),
            "content": ERROR_CONTENT,
            "x-error-codes": ordered,
        }
    responses["default"] = {"description": "unexpected error (internal_error)", "content": ERROR_CONTENT}
    operation: dict[str, Any] = {
        "operationId": view_name,
        "summary": op.summary,
        "tags": [api],
        "responses": responses,
    }
    if params:
        operation["parameters"] = params
    if op.body:
        operation["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": ref(op.body)}}}
    if op.auth == "bearer":
        operation["security"] = [{"bearer": []}]
        if op.roles:
            operation["x-roles"] = list(op.roles)
    else:
        operation["security"] = []
    return operation


def _join(api: str, into: dict[Any, Any], more: dict[Any, Any]) -> None:
    twice = sorted(map(str, set(into) & set(more)))
    if twice:
        raise SpecError(f"{api}: described twice: {twice}")
    into.update(more)


def merged(specs: dict[str, ApiSpec]) -> ApiSpec:
    """COMMON and the APIs' specs as one; a schema, route or parameter described twice is an error."""
    whole = ApiSpec(dict(COMMON.schemas), dict(COMMON.operations), dict(COMMON.query))
    for api in sorted(specs):
        _join(api, whole.schemas, specs[api].schemas)
        _join(api, whole.operations, specs[api].operations)
        _join(api, whole.query, specs[api].query)
    return whole


def build(apps: dict[str, Any], specs: dict[str, ApiSpec]) -> dict[str, Any]:
    """The document for ``{"users": app, ...}`` (Chalice apps) and ``{"users": SPEC, ...}``."""
    spec = merged(specs)
    paths: dict[str, dict[str, Any]] = {}
    served_by: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    operation_ids: dict[str, tuple[str, str]] = {}
    for api in sorted(apps):
        for path, entries in sorted(apps[api].routes.items()):
            for method, entry in sorted(entries.items()):
                key = (method.upper(), path)
                op = spec.operations.get(key)
                if op is None:
                    raise SpecError(f"{api}: {key[0]} {path} has no description in {api}/api_spec.py")
                seen.add(key)
                item = paths.setdefault(path, {})
                served_by.setdefault(path, [])
                if api not in served_by[path]:
                    served_by[path].append(api)
                existing = item.get(method.lower())
                if existing is not None:  # the same route on another API (e.g. /health)
                    existing["tags"].append(api)
                    continue
                if entry.view_name in operation_ids:
                    raise SpecError(f"operationId {entry.view_name} used by {operation_ids[entry.view_name]}"
                                    f" and {key}")
                operation_ids[entry.view_name] = key
                item[method.lower()] = _operation(api, key[0], path, entry.view_name,
                                                  list(entry.view_args), op, spec.query)
    unused = sorted(set(spec.operations) - seen)
    if unused:
        raise SpecError(f"described in api_spec but no app serves them: {unused}")
    for path, item in paths.items():
        item["servers"] = [_server(api) for api in served_by[path]]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "photostack",
            "version": "1",
            "description": (
                "Event photos: accounts (users API), events, photos and uploads (photos API), "
                "wallets, orders and downloads (transactions API). Three API Gateway APIs, each "
                "with its own base URL (see servers on each path). Generated from the Chalice "
                "route tables by infra/openapi.py; do not edit by hand. Every error is "
                '{"error": {"code", "message"}}; each error response lists its codes in '
                "x-error-codes. Money is integer minor units with an ISO 4217 currency."
            ),
        },
        "servers": [_server(api) for api in sorted(apps)],
        "tags": [{"name": api, "description": API_TITLES[api]} for api in sorted(apps)],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(spec.schemas.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "access_token from POST /auth/login or /auth/refresh"},
            },
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def apps() -> dict[str, Any]:
    return {api: load_app(api) for api in APIS}


def specs() -> dict[str, ApiSpec]:
    """Each API's ``<domain>.api_spec.SPEC`` (loading the app puts the function on sys.path)."""
    loaded = {}
    for api in APIS:
        load_app(api)
        loaded[api] = importlib.import_module(f"{api}.api_spec").SPEC
    return loaded


def generate() -> str:
    return render(build(apps(), specs()))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    text = generate()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run python infra/openapi.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
