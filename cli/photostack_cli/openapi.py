"""The OpenAPI 3.1 document of the users, photos and transactions APIs, built from the code.

:func:`build` walks the route tables of the three Chalice apps (``app.routes``) and
describes each route with its entry in :mod:`photostack_cli.api_spec`. A route without
an entry, or an entry without a route, is an error, so the document cannot drift from
the apps; ``infra/openapi.py`` loads the apps and writes ``docs/openapi.json``, and a
unit test checks the committed file against a fresh build.

Every operation answers errors as ``{"error": {"code", "message"}}`` (schema ``Error``);
each error status lists its codes in ``x-error-codes``.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any

from photostack_cli.api_spec import OPERATIONS, QUERY, SCHEMAS, Operation, UploadLimits, ref, upload_schemas

API_TITLES = {"users": "Users API", "photos": "Photos API", "transactions": "Transactions API"}
STACK_OUTPUT = {"users": "UsersApiUrl", "photos": "PhotosApiUrl", "transactions": "TransactionsApiUrl"}
ERROR_CONTENT = {"application/json": {"schema": ref("Error")}}


class SpecError(Exception):
    """The apps and the descriptions in api_spec disagree."""


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
               op: Operation) -> dict[str, Any]:
    declared_args = re.findall(r"{(\w+)}", path)
    if declared_args != list(view_args):
        raise SpecError(f"{method} {path}: view arguments {view_args} differ from the path's")
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in declared_args
    ]
    params += [QUERY[name] for name in op.query]
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


def build(apps: dict[str, Any], upload_limits: UploadLimits) -> dict[str, Any]:
    """The document for ``{"users": app, "photos": app, "transactions": app}`` (Chalice apps)."""
    paths: dict[str, dict[str, Any]] = {}
    served_by: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    operation_ids: dict[str, tuple[str, str]] = {}
    for api in sorted(apps):
        for path, entries in sorted(apps[api].routes.items()):
            for method, entry in sorted(entries.items()):
                key = (method.upper(), path)
                op = OPERATIONS.get(key)
                if op is None:
                    raise SpecError(f"{api}: {key[0]} {path} has no description in photostack_cli.api_spec")
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
                                                  list(entry.view_args), op)
    unused = sorted(set(OPERATIONS) - seen)
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
            "schemas": dict(sorted({**SCHEMAS, **upload_schemas(upload_limits)}.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "access_token from POST /auth/login or /auth/refresh"},
            },
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
