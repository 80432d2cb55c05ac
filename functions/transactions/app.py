"""Transactions API: wallets, top-ups, payment webhooks, orders, purchases, earnings, refunds.

Routes only: parse, authenticate, call one service method, shape the response.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import psycopg2
from chalice import Chalice, Response  # type: ignore[attr-defined]
from chalice.app import Request
from photostack import contract, errors
from photostack.config import get_settings
from photostack.http import api_route, authenticate, int_query_param, json_response, query_param, read_json
from transactions import bootstrap, domain, simulated_checkout
from transactions.services import Outcome
from transactions.webhooks import SIGNATURE_HEADER

app = Chalice(app_name="photostack-transactions")

ANY_ROLE = contract.ROLES


def _request() -> Request:
    request = app.current_request
    assert request is not None  # Chalice sets it before calling a view
    return request


def _headers() -> dict[str, str]:
    return dict(_request().headers or {})


def _respond(outcome: Outcome) -> Response:
    headers = dict(outcome.headers)
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(outcome.body, outcome.status, headers)


def dependency_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """A database that cannot be reached is a 503 the client may retry, not a 500."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            raise errors.ServiceUnavailable("the database is unavailable; retry later",
                                            code="database_unavailable",
                                            headers={"Retry-After": "1"}) from exc

    return wrapped


def _page() -> tuple[str | None, int]:
    request = _request()
    return query_param(request, "cursor"), int_query_param(request, "limit", 50, lo=1, hi=200)


@api_route(app, "/health", methods=["GET"])
@dependency_errors
def health() -> Response:
    bootstrap.service().health()
    return json_response({"status": "ok", "service": "transactions"})


@api_route(app, "/wallet/topups", methods=["POST"])
@dependency_errors
def start_topup() -> Response:
    principal = authenticate(_request(), roles=ANY_ROLE)
    key = domain.idempotency_key(_headers())
    request = domain.TopupRequest.parse(read_json(_request()))
    return _respond(bootstrap.service().start_topup(principal.user_id, key, request))


@api_route(app, "/wallet/topups/{payment_id}/simulate", methods=["POST"])
@dependency_errors
def simulate_topup(payment_id: str) -> Response:
    # Local stacks only: the server plays the simulated provider (the browser holds no secret).
    principal = authenticate(_request(), roles=ANY_ROLE)
    return _respond(simulated_checkout.confirm_own_topup(bootstrap.service(), get_settings().env,
                                                          principal.user_id, payment_id))


@api_route(app, "/webhooks/payments", methods=["POST"])
@dependency_errors
def payment_webhook() -> Response:
    # No bearer token: the provider authenticates with the HMAC signature.
    body = _request().raw_body or b""
    if isinstance(body, str):
        body = body.encode()
    if len(body) > 16 * 1024:
        raise errors.PayloadTooLarge("webhook body is too large")
    signature = next((v for k, v in _headers().items() if k.lower() == SIGNATURE_HEADER.lower()), None)
    return _respond(bootstrap.service().handle_payment_webhook(signature, body))


@api_route(app, "/wallet", methods=["GET"])
@dependency_errors
def wallet() -> dict[str, Any]:
    principal = authenticate(_request(), roles=ANY_ROLE)
    return bootstrap.service().wallet(principal.user_id)


@api_route(app, "/wallet/ledger", methods=["GET"])
@dependency_errors
def wallet_ledger() -> dict[str, Any]:
    principal = authenticate(_request(), roles=ANY_ROLE)
    cursor, limit = _page()
    return bootstrap.service().ledger(principal.user_id, cursor, limit)


@api_route(app, "/orders", methods=["POST"])
@dependency_errors
def place_order() -> Response:
    principal = authenticate(_request(), roles=ANY_ROLE)
    key = domain.idempotency_key(_headers())
    request = domain.OrderRequest.parse(read_json(_request()))
    return _respond(bootstrap.service().place_order(principal.user_id, key, request, buyer=principal))


@api_route(app, "/orders", methods=["GET"])
@dependency_errors
def list_orders() -> dict[str, Any]:
    principal = authenticate(_request(), roles=ANY_ROLE)
    cursor, limit = _page()
    return bootstrap.service().list_orders(principal.user_id, cursor, limit)


@api_route(app, "/orders/{order_id}", methods=["GET"])
@dependency_errors
def get_order(order_id: str) -> dict[str, Any]:
    principal = authenticate(_request(), roles=ANY_ROLE)
    return bootstrap.service().get_order(principal.user_id, order_id)


@api_route(app, "/purchases", methods=["GET"])
@dependency_errors
def purchases() -> dict[str, Any]:
    principal = authenticate(_request(), roles=ANY_ROLE)
    cursor, limit = _page()
    return bootstrap.service().purchases(principal.user_id, cursor, limit)


@api_route(app, "/purchases/{photo_id}/download", methods=["GET"])
@dependency_errors
def download(photo_id: str) -> dict[str, Any]:
    principal = authenticate(_request(), roles=ANY_ROLE)
    return bootstrap.service().download(principal.user_id, photo_id, buyer=principal)


@api_route(app, "/earnings", methods=["GET"])
@dependency_errors
def earnings() -> dict[str, Any]:
    principal = authenticate(_request(), roles=(contract.PHOTOGRAPHER, contract.ADMIN))
    return bootstrap.service().earnings(principal.user_id)


@api_route(app, "/admin/refunds", methods=["POST"])
@dependency_errors
def refund() -> Response:
    authenticate(_request(), roles=(contract.ADMIN,))
    body = read_json(_request())
    order_id = body.get("order_id")
    if not isinstance(order_id, str) or set(body) != {"order_id"}:
        raise errors.BadRequest("body must be {\"order_id\": \"<order id>\"}")
    return _respond(bootstrap.service().refund(order_id))
