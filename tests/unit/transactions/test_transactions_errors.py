"""The transactions API's one error table: each of its domain errors answers the status and body
the routes answered when the domain raised HTTP errors itself; and only the edge knows HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from transactions import errors as e
from transactions.web import ERRORS

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[3] / "functions" / "transactions" / "transactions"
# The layer's names a domain module may use: the base of its own exceptions, nothing of HTTP.
DOMAIN_NAMES = {"DomainError"}
# The photo catalog's adapter: photostack.rpc raises the sidecar's answers as HTTP errors, and the
# adapter reads them (unavailable, not found, a sidecar too old for batches); it raises none.
ADAPTERS = {"catalog_grpc.py"}


@pytest.mark.parametrize(("error", "status", "code"), [
    (e.InvalidRequest("photo_ids must not repeat a photo"), 400, "bad_request"),
    (e.InvalidRequest("cursor is not valid", code="invalid_cursor"), 400, "invalid_cursor"),
    (e.TooLarge("webhook body is too large"), 413, "payload_too_large"),
    (e.WebhookRejected("signature does not match"), 401, "invalid_signature"),
    (e.WebhookRejected("signature timestamp is outside the tolerance window", code="stale_signature"), 401,
     "stale_signature"),
    (e.NotEntitled("you have not bought this photo", code="not_entitled"), 403, "not_entitled"),
    (e.Missing("order not found", code="order_not_found"), 404, "order_not_found"),
    (e.StateConflict("this webhook event was already processed", code="replayed_event"), 409,
     "replayed_event"),
    (e.IdempotencyKeyReused(), 422, "idempotency_key_reused"),
    (e.NotPurchasable("photo p is your own", code="own_photo"), 422, "own_photo"),
    (e.Unavailable("the photo catalog is unavailable; retry later", code="catalog_unavailable"), 503,
     "catalog_unavailable"),
])
def test_each_domain_error_has_its_status_and_body(error: e.TransactionsError, status: int,
                                                   code: str) -> None:
    answer = ERRORS.to_api_error(error)
    assert (answer.status, answer.body()) == (status, {"error": {"code": code, "message": error.message}})
    assert answer.headers == {}  # no Retry-After: the routes never sent one for these


def test_insufficient_funds_is_a_402_that_says_how_much() -> None:
    answer = ERRORS.to_api_error(e.InsufficientFunds("EUR", 1200, 500))
    assert answer.status == 402
    assert answer.body() == {"error": {
        "code": "insufficient_funds",
        "message": "wallet balance 500 EUR is less than the order total 1200 EUR",
        "details": {"currency": "EUR", "needed_minor": 1200, "available_minor": 500},
    }}


def test_every_transactions_error_has_a_row() -> None:
    kinds = {cls for cls in vars(e).values()
             if isinstance(cls, type) and issubclass(cls, e.TransactionsError)}
    mapped = {kind for kind, _ in ERRORS.rows}
    assert kinds - {e.TransactionsError} <= mapped


def http_error_imports(source: str) -> list[str]:
    """What ``source`` takes from ``photostack.errors`` beyond :data:`DOMAIN_NAMES`."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name == "photostack.errors"]
        elif isinstance(node, ast.ImportFrom) and node.module == "photostack":
            found += [f"photostack.{a.name}" for a in node.names if a.name == "errors"]
        elif isinstance(node, ast.ImportFrom) and node.module == "photostack.errors":
            found += [f"photostack.errors.{a.name}" for a in node.names if a.name not in DOMAIN_NAMES]
    return found


def test_only_the_edge_imports_http_errors() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert {"services.py", "domain.py", "webhooks.py", "web.py"} <= {m.name for m in modules}
    offenders = {m.name: found for m in modules if m.name not in {"web.py", *ADAPTERS}
                 if (found := http_error_imports(m.read_text()))}
    assert offenders == {}, "raise the domain's own errors (transactions.errors); map them in web.py"


@pytest.mark.parametrize("snippet", [
    "from photostack import errors\n",
    "from photostack import contract, errors\n",
    "import photostack.errors\n",
    "from photostack.errors import BadRequest\n",
    "from photostack.errors import DomainError, NotFound\n",
])
def test_the_scan_sees_an_http_error_import(snippet: str) -> None:
    assert http_error_imports(snippet)


def test_the_scan_lets_the_domain_base_through() -> None:
    source = "from photostack.errors import DomainError\nfrom photostack import contract\n"
    assert http_error_imports(source) == []
