"""The matrix table itself: well formed, and in step with docs/openapi.json (no I/O but files)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.authz import table

pytestmark = pytest.mark.unit


def test_the_table_is_well_formed() -> None:
    assert table.shape_errors(table.load()) == []


def test_every_operation_of_the_openapi_document_has_rows_and_every_row_an_operation() -> None:
    documented = set(table.openapi_operations())
    in_table = set(table.load()["operations"])
    assert sorted(documented - in_table) == [], "operations of docs/openapi.json with no rows in matrix.yaml"
    assert sorted(in_table - documented) == [], "rows in matrix.yaml for operations that do not exist"


def test_the_drift_check_notices_a_new_route_and_a_stale_row() -> None:
    document = {"paths": {"/health": {"get": {"tags": ["users"]}}, "/new": {"post": {"tags": ["photos"]}}}}
    documented = set(table.openapi_operations(document))
    in_table = set(table.load()["operations"])
    assert "POST /new" in documented - in_table
    assert "GET /users/me" in in_table - documented


def test_a_malformed_row_is_named() -> None:
    bad = {"callers": list(table.CALLERS), "operations": {
        "GET /photos/{photo_id}": {"own": [200] * 7},
        "GET /wallet": {"-": [200, 200]},
        "GET /orders": {"-": [200, "200/free", 200, 200, 200, 200, 200]},
    }}
    problems = table.shape_errors(bad)
    assert any("GET /photos/{photo_id}: names a resource" in p for p in problems)
    assert any("GET /wallet -: needs 7 cells" in p for p in problems)
    assert any("GET /orders -: not a cell" in p for p in problems)


def test_cells_skip_na_and_parse_the_paywall() -> None:
    data = table.load()
    cells = table.cells(data)
    assert len(cells) > 400
    photo_cells = {(c.caller, c.target): c.expected for c in cells if c.operation == "GET /photos/{photo_id}"}
    assert photo_cells[("customer", "other")] == table.Expected(200, "noweb")
    assert photo_cells[("buyer", "other")] == table.Expected(200, "web")
    assert ("customer", "own") not in photo_cells


def test_check_answer_applies_the_paywall() -> None:
    noweb: dict[str, Any] = {"derivatives": {"thumb_jpg": {}, "preview_jpg": {}}}
    web: dict[str, Any] = {"derivatives": {"thumb_jpg": {}, "preview_jpg": {}, "web_jpg": {}}}
    assert table.check_answer(table.Expected(200, "noweb"), 200, noweb) is None
    assert table.check_answer(table.Expected(200, "noweb"), 200, web) is not None
    assert table.check_answer(table.Expected(200, "web"), 200, noweb) is not None
    assert table.check_answer(table.Expected(403), 200, web) == "expected 403, got 200"
    a, b = "a" * 36, "b" * 36
    page = {"photos": [{"id": a, "status": "ready", **web}, {"id": b, "status": "ready", **noweb}]}
    assert table.check_answer(table.Expected(200, "paywall"), 200, page, {a}) is None
    assert table.check_answer(table.Expected(200, "paywall"), 200, page, set()) is not None
