"""What the users API's routes accept and answer, as OpenAPI (see photostack.apispec).

``infra/openapi.py`` joins this with ``app.routes`` into ``docs/openapi.json``; a route of
``app.py`` without an entry here (or an entry without a route) fails that build.
"""

from __future__ import annotations

from photostack import contract
from photostack.apispec import BOOL, INT, STR, TIME, UUID, ApiSpec, Operation, enum, obj, ref

ROLE = enum(contract.ROLES)

SPEC = ApiSpec(
    schemas={
        "Registration": obj(
            required=("email", "password", "display_name", "role"),
            email={"type": "string", "format": "email"},
            password={"type": "string", "minLength": 8, "maxLength": 128},
            display_name=STR,
            role=enum(contract.SELF_SERVICE_ROLES),
        ),
        "Credentials": obj(required=("email", "password"), email=STR, password=STR),
        "RefreshRequest": obj(required=("refresh_token",), refresh_token=STR),
        "User": obj(required=("id", "email", "display_name", "role", "disabled", "created_at"),
                    id=UUID, email=STR, display_name=STR, role=ROLE, disabled=BOOL, created_at=TIME),
        "PublicUser": obj(required=("id", "display_name", "role"), id=UUID, display_name=STR, role=ROLE),
        "Tokens": obj(
            required=("access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in",
                      "user"),
            access_token={"type": "string", "description": "HS256 JWT; send as Authorization: Bearer"},
            token_type={"const": "Bearer"},
            expires_in=INT,
            refresh_token={"type": "string", "description": "single use: each refresh returns a new one"},
            refresh_expires_in=INT,
            user=ref("User"),
        ),
        "ProfileChange": obj(display_name=STR, password=STR, current_password=STR),
        "AdminChange": obj(role=ROLE, disabled=BOOL),
    },
    operations={
        ("POST", "/auth/register"): Operation(
            "Create an account (customer or photographer); limited per client address", (201, "User"),
            auth=None, body="Registration",
            errors={400: ("validation_error", "weak_password"), 409: ("email_taken",),
                    429: ("too_many_registrations",)}),
        ("POST", "/auth/login"): Operation(
            "Sign in: an access token and a refresh token", (200, "Tokens"), auth=None, body="Credentials",
            errors={401: ("invalid_credentials", "account_disabled"), 429: ("too_many_attempts",)}),
        ("POST", "/auth/refresh"): Operation(
            "Trade a refresh token for new tokens (rotation; reuse revokes the login)", (200, "Tokens"),
            auth="refresh_token", body="RefreshRequest",
            errors={401: ("invalid_refresh_token", "refresh_token_reused", "session_expired",
                          "account_disabled")}),
        ("POST", "/auth/logout"): Operation(
            "Revoke the refresh token's whole login", (204, None), auth="refresh_token",
            body="RefreshRequest"),
        ("GET", "/users/me"): Operation("The signed-in account", (200, "User")),
        ("PATCH", "/users/me"): Operation(
            "Change display name and/or password (needs current_password)", (200, "User"),
            body="ProfileChange", errors={400: ("validation_error", "weak_password"),
                                          401: ("invalid_credentials",), 429: ("too_many_attempts",)}),
        ("GET", "/users/{user_id}"): Operation(
            "A public profile (never the email)", (200, "PublicUser"), auth=None,
            errors={404: ("not_found",)}),
        ("PATCH", "/admin/users/{user_id}"): Operation(
            "Change an account's role or disable it", (200, "User"), roles=(contract.ADMIN,),
            body="AdminChange",
            errors={400: ("validation_error",), 403: ("not_allowed",), 404: ("not_found",)}),
    },
)
