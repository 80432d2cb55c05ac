"""The authorisation matrix (matrix.yaml) as data: load it, check its shape, expand its cells,
and compare an answer with a cell. No I/O beyond reading the two files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
MATRIX = HERE / "matrix.yaml"
OPENAPI = ROOT / "docs" / "openapi.json"

CALLERS = ("anonymous", "customer", "buyer", "owner", "other", "admin", "disabled")
TARGETS = ("own", "other", "private", "missing", "-")
RESOURCES = ("user", "event", "photo", "spare_photo", "order", "spare_order", "payment")
METHODS = ("get", "put", "post", "delete", "patch")
NA = "na"
# What a 200 with a suffix checks about the photos in the answer (see matrix.yaml).
PAYWALL_SUFFIXES = ("web", "noweb", "paywall")


@dataclass(frozen=True)
class Expected:
    status: int
    paywall: str | None = None  # web | noweb | paywall

    @classmethod
    def parse(cls, raw: object) -> Expected:
        text = str(raw)
        status, _, suffix = text.partition("/")
        if not status.isdigit() or (suffix and suffix not in PAYWALL_SUFFIXES):
            raise ValueError(f"not a cell: {raw!r}")
        if suffix and status != "200":
            raise ValueError(f"a paywall check goes with 200 only: {raw!r}")
        return cls(int(status), suffix or None)

    def __str__(self) -> str:
        return f"{self.status}/{self.paywall}" if self.paywall else str(self.status)


@dataclass(frozen=True)
class Cell:
    operation: str  # "GET /photos/{photo_id}"
    resource: str | None
    target: str
    caller: str
    expected: Expected

    @property
    def method(self) -> str:
        return self.operation.split(" ", 1)[0]

    @property
    def path(self) -> str:
        return self.operation.split(" ", 1)[1]

    def __str__(self) -> str:
        return f"{self.operation} [{self.caller} -> {self.target}]"


def openapi_operations(document: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """``"METHOD /path"`` -> the APIs (tags) that serve it, for every operation of the document."""
    doc = document if document is not None else json.loads(OPENAPI.read_text())
    found: dict[str, list[str]] = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                found[f"{method.upper()} {path}"] = list(op.get("tags", []))
    return found


def load(path: Path = MATRIX) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def shape_errors(data: dict[str, Any]) -> list[str]:
    """Everything wrong with the table's form (not with what it expects)."""
    problems: list[str] = []
    if tuple(data.get("callers", ())) != CALLERS:
        problems.append(f"callers must be {list(CALLERS)}")
    for operation, rows in (data.get("operations") or {}).items():
        method, _, path = str(operation).partition(" ")
        if method.lower() not in METHODS or not path.startswith("/"):
            problems.append(f"{operation}: not 'METHOD /path'")
        if not isinstance(rows, dict):
            problems.append(f"{operation}: no rows")
            continue
        resource = rows.get("resource")
        targets = [t for t in rows if t != "resource"]
        if not targets:
            problems.append(f"{operation}: no rows")
        if resource is not None and resource not in RESOURCES:
            problems.append(f"{operation}: unknown resource {resource!r}")
        if "{" in path and resource is None:
            problems.append(f"{operation}: names a resource in its path but has no `resource`")
        for target in targets:
            if target not in TARGETS:
                problems.append(f"{operation}: unknown target {target!r}")
            elif target not in ("-", "missing") and resource is None:
                problems.append(f"{operation}: target {target!r} needs a `resource`")
            cells = rows[target]
            if not isinstance(cells, list) or len(cells) != len(CALLERS):
                problems.append(f"{operation} {target}: needs {len(CALLERS)} cells, one per caller")
                continue
            for raw in cells:
                if raw == NA:
                    continue
                try:
                    Expected.parse(raw)
                except ValueError as exc:
                    problems.append(f"{operation} {target}: {exc}")
    return problems


def cells(data: dict[str, Any]) -> list[Cell]:
    """Every cell that is sent (``na`` cells are not)."""
    out: list[Cell] = []
    for operation, rows in data["operations"].items():
        resource = rows.get("resource")
        for target, values in rows.items():
            if target == "resource":
                continue
            for caller, raw in zip(CALLERS, values, strict=True):
                if raw != NA:
                    out.append(Cell(operation, resource, target, caller, Expected.parse(raw)))
    return out


def rows(data: dict[str, Any]) -> int:
    return sum(len([t for t in r if t != "resource"]) for r in data["operations"].values())


def web_kinds(derivatives: dict[str, Any]) -> bool:
    """Whether a photo answer carries any clean size: every kind but the free thumb and preview."""
    return any(kind.split("_", 1)[0] not in ("thumb", "preview") for kind in derivatives)


def check_answer(expected: Expected, status: int, body: Any,
                 full_access: set[str] | None = None) -> str | None:
    """None when the answer matches the cell, else what differs.

    ``full_access``: the photo ids the caller may have clean (for ``200/paywall``)."""
    if status != expected.status:
        return f"expected {expected}, got {status}"
    if expected.paywall is None:
        return None
    if not isinstance(body, dict):
        return f"expected a JSON object, got {str(body)[:80]!r}"
    if expected.paywall in ("web", "noweb"):
        has_web = web_kinds(body.get("derivatives") or {})
        if not body.get("derivatives"):
            return "the photo has no derivatives at all"
        if has_web != (expected.paywall == "web"):
            return f"expected {expected}, got 200 with derivatives {sorted(body['derivatives'])}"
        return None
    wrong = []
    photos = body.get("photos") or []
    if not photos:
        return "expected photos in the page, got none"
    for photo in photos:
        if photo.get("status") != "ready":
            continue
        should = photo["id"] in (full_access or set())
        if web_kinds(photo.get("derivatives") or {}) != should:
            wrong.append(f"{photo['id'][:8]}: {sorted(photo.get('derivatives') or {})} "
                         f"({'should' if should else 'should not'} have web)")
    return "paywall: " + "; ".join(wrong) if wrong else None
