"""Transactions API: wallets, top-ups, payment webhooks, orders, purchases, earnings, refunds.

Routes only: parse, authenticate, call one service method, shape the response.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response  # type: ignore[attr-defined]
from chalice.app import Request
from photostack import contract
from photostack.config import get_settings
from photostack.http import api_route, authenticate, int_query_param, json_response, query_param, read_json
from transactions import bootstrap, domain, simulated_checkout
from transactions.errors import InvalidRequest, TooLarge
from transactions.services import Outcome
from transactions.web import ERRORS
from transactions.webhooks import SIGNATURE_HEADER

app = Chalice(app_name="photostack-transactions")

ANY_ROLE = contract.ROLES


def route(path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``api_route`` with this function's domain errors mapped through ``transactions.web.ERRORS``
    and an unreachable database answered as a 503 (the table's outages)."""
    return api_route(app, path, error_table=ERRORS, **kwargs)


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


def _page() -> tuple[str | None, int]:
    request = _request()
    return query_param(request, "cursor"), int_query_param(request, "limit", 50, lo=1, hi=200)


@route("/health", methods=["GET"])
def health() -> Response:
    bootstrap.service().health()
    return json_response({"status": "ok", "service": "transactions"})


@route("/wallet/topups", methods=["POST"])
def start_topup() -> Response:
    principal = authenticate(_request(), roles=ANY_ROLE)
    key = domain.idempotency_key(_headers())
    request = domain.TopupRequest.parse(read_json(_request()))
    return _respond(bootstrap.service().start_topup(principal.user_id, key, request))


@route("/wallet/topups/{payment_id}/simulate", methods=["POST"])
def simulate_topup(payment_id: str) -> Response:
    # Local stacks only: the server plays the simulated provider (the browser holds no secret).
    principal = authenticate(_request(), roles=ANY_ROLE)
    return _respond(simulated_checkout.confirm_own_topup(bootstrap.service(), get_settings().env,
                                                          principal.user_id, payment_id))


@route("/webhooks/payments", methods=["POST"])
def payment_webhook() -> Response:
    # No bearer token: the provider authenticates with the HMAC signature.
    body = _request().raw_body or b""
    if isinstance(body, str):
        body = body.encode()
    if len(body) > 16 * 1024:
        raise TooLarge("webhook body is too large")
    signature = next((v for k, v in _headers().items() if k.lower() == SIGNATURE_HEADER.lower()), None)
    return _respond(bootstrap.service().handle_payment_webhook(signature, body))


@route("/wallet", methods=["GET"])
def wallet() -> dict[str, Any]:
    principal = authenticate(_request(), roles=ANY_ROLE)
    return bootstrap.service().wallet(principal.user_id)


@route("/wallet/ledger", methods=["GET"])
def wallet_ledger() -> dict[str, Any]:
    principal = authenticate(_request(), roles=ANY_ROLE)
    cursor, limit = _page()
    return bootstrap.service().ledger(principal.user_id, cursor, limit)


@route("/orders", methods=["POST"])
def place_order() -> Response:
    principal = authenticate(_request(), roles=ANY_ROLE)
    key = domain.idempotency_key(_headers())
    request = domain.OrderRequest.parse(read_json(_request()))
    return _respond(bootstrap.service().place_order(principal.user_id, key, request, buyer=principal))


@route("/orders", methods=["GET"])
def list_orders() -> dict[str, Any]:
    principal = authenticate(_request(), roles=ANY_ROLE)
    cursor, limit = _page()
    return bootstrap.service().list_orders(principal.user_id, cursor, limit)


@route("/orders/{order_id}", methods=["GET"])
def get_order(order_id: str) -> dict[str, Any]:
    principal = authenticate(_request(), roles=ANY_ROLE)
    return bootstrap.service().get_order(principal.user_id, order_id)


@route("/purchases", methods=["GET"])
def purchases() -> dict[str, Any]:
    principal = authenticate(_request(), roles=ANY_ROLE)
    cursor, limit = _page()
    return bootstrap.service().purchases(principal.user_id, cursor, limit)


@route("/purchases/{photo_id}/download", methods=["GET"])
def download(photo_id: str) -> dict[str, Any]:
    principal = authenticate(_request(), roles=ANY_ROLE)
    return bootstrap.service().download(principal.user_id, photo_id, buyer=principal)


@route("/earnings", methods=["GET"])
def earnings() -> dict[str, Any]:
    principal = authenticate(_request(), roles=(contract.PHOTOGRAPHER, contract.ADMIN))
    return bootstrap.service().earnings(principal.user_id)


@route("/admin/refunds", methods=["POST"])
def refund() -> Response:
    authenticate(_request(), roles=(contract.ADMIN,))
    body = read_json(_request())
    order_id = body.get("order_id")
    if not isinstance(order_id, str) or set(body) != {"order_id"}:
        raise InvalidRequest("body must be {\"order_id\": \"<order id>\"}")
    return _respond(bootstrap.service().refund(order_id))
