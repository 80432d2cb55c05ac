"""photostack users API: accounts, sign-in and tokens. Routes only; see the `users` package."""

from __future__ import annotations

from typing import Any

from chalice import Chalice, Response  # type: ignore[attr-defined]
from chalice.app import Request
from photostack.contract import ADMIN
from photostack.http import api_route, authenticate, json_response, read_json
from users import bootstrap, domain
from users.config import get_users_settings
from users.web import client_ip, domain_errors

app = Chalice(app_name="photostack-users")


def _request() -> Request:
    request = app.current_request
    assert request is not None  # Chalice sets it before calling a view
    return request


def _body() -> dict[str, Any]:
    return read_json(_request(), max_bytes=get_users_settings().max_body_bytes)


@api_route(app, "/health", methods=["GET"])
@domain_errors
def health() -> Response:
    degraded = bootstrap.service().health()
    body: dict[str, Any] = {"status": "ok", "service": "users"}
    if degraded:
        body["degraded"] = degraded  # e.g. ["redis"]: sign-in throttling is per environment meanwhile
    return json_response(body)


@api_route(app, "/auth/register", methods=["POST"])
@domain_errors
def register() -> Response:
    user = bootstrap.service().register(domain.parse_registration(_body()), client_ip(_request()))
    return json_response(user.private_view(), 201)


@api_route(app, "/auth/login", methods=["POST"])
@domain_errors
def login() -> Response:
    tokens = bootstrap.service().login(domain.parse_credentials(_body()), client_ip(_request()))
    return json_response(tokens.view(), 200, {"Cache-Control": "no-store"})


@api_route(app, "/auth/refresh", methods=["POST"])
@domain_errors
def refresh() -> Response:
    tokens = bootstrap.service().refresh(domain.parse_refresh_token(_body()))
    return json_response(tokens.view(), 200, {"Cache-Control": "no-store"})


@api_route(app, "/auth/logout", methods=["POST"])
@domain_errors
def logout() -> Response:
    bootstrap.service().logout(domain.parse_refresh_token(_body()))
    return Response(body="", status_code=204)


@api_route(app, "/users/me", methods=["GET"])
@domain_errors
def get_me() -> Response:
    principal = authenticate(_request())
    return json_response(bootstrap.service().me(principal).private_view())


@api_route(app, "/users/me", methods=["PATCH"])
@domain_errors
def patch_me() -> Response:
    principal = authenticate(_request())
    service = bootstrap.service()
    me = service.me(principal)
    change = domain.parse_profile_change(_body(), email=me.email)
    return json_response(service.update_me(principal, change, client_ip(_request())).private_view())


@api_route(app, "/users/{user_id}", methods=["GET"])
@domain_errors
def get_user(user_id: str) -> Response:
    return json_response(bootstrap.service().public_profile(user_id).public_view())


@api_route(app, "/admin/users/{user_id}", methods=["PATCH"])
@domain_errors
def admin_patch_user(user_id: str) -> Response:
    admin = authenticate(_request(), roles=[ADMIN])
    change = domain.parse_admin_change(_body())
    return json_response(bootstrap.service().admin_change(admin, user_id, change).private_view())
