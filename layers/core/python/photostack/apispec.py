"""Building blocks for describing a Chalice API as OpenAPI 3.1, and what every API shares.

Each API function describes its own routes beside them, in ``<domain>/api_spec.py`` (one
:class:`ApiSpec`: the schemas its routes take and answer, one :class:`Operation` per
``(method, path)``, its query parameters). ``infra/openapi.py`` walks the apps' route tables
and joins them with these descriptions into ``docs/openapi.json``; a route without a
description, or a description without a route, fails that build. Nothing here is imported
when a function runs: it is documentation kept as code, so that it cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: tuple[str, ...] = (), extra: bool = False, **props: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": props, "additionalProperties": extra}
    if required:
        schema["required"] = list(required)
    return schema


def page_of(key: str, item: str) -> Schema:
    props: dict[str, Schema] = {
        key: {"type": "array", "items": ref(item)},
        "next_cursor": {"type": ["string", "null"], "description": "pass as ?cursor= for the next page"},
    }
    return obj((key, "next_cursor"), False, **props)


def enum(values: tuple[str, ...]) -> Schema:
    return {"type": "string", "enum": list(values)}


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
UUID: Schema = {"type": "string", "format": "uuid"}
TIME: Schema = {"type": "string", "format": "date-time"}
NTIME: Schema = {"type": ["string", "null"], "format": "date-time"}
MINOR: Schema = {"type": "integer", "description": "amount in minor units (cents)"}


@dataclass(frozen=True)
class Operation:
    """One route. Errors implied by how its view is built (a bearer token, a role check, a JSON
    body, an Idempotency-Key: see photostack.http) are added by the generator; ``errors`` lists
    the domain's own."""

    summary: str
    ok: tuple[int, str | None]  # status and response schema (None: no body)
    auth: str | None = "bearer"  # bearer | refresh_token | signature | None
    roles: tuple[str, ...] = ()
    body: str | None = None
    idempotency: str | None = None  # "required" | "optional"
    query: tuple[str, ...] = ()  # names of query parameters (ApiSpec.query of some API)
    errors: dict[int, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiSpec:
    """What one API's routes accept and answer."""

    schemas: dict[str, Schema] = field(default_factory=dict)
    operations: dict[tuple[str, str], Operation] = field(default_factory=dict)
    query: dict[str, Schema] = field(default_factory=dict)


PAGE = ("cursor", "limit")

# Every API serves GET /health, answers errors in one shape and pages with the same cursor.
COMMON = ApiSpec(
    schemas={
        "Error": obj(
            required=("error",),
            error=obj(
                required=("code", "message"),
                code={"type": "string", "description": "stable, machine-readable (e.g. email_taken)"},
                message={"type": "string", "description": "for people"},
                details={"type": "object", "additionalProperties": True},
            ),
        ),
        "Health": obj(required=("status",), status={"const": "ok"}, service=STR,
                      degraded={"type": "array", "items": STR,
                                "description": "dependencies that are down but not needed (e.g. redis)"}),
    },
    operations={
        ("GET", "/health"): Operation(
            "Liveness and dependencies (PostgreSQL, Redis)", (200, "Health"), auth=None,
            errors={503: ("service_unavailable", "database_unavailable")}),
    },
    query={
        "cursor": {"name": "cursor", "in": "query", "required": False, "schema": STR,
                   "description": "next_cursor of the previous page"},
        "limit": {"name": "limit", "in": "query", "required": False,
                  "schema": {"type": "integer", "minimum": 1}, "description": "page size"},
    },
)
