"""The users domain's errors as HTTP errors, and request details the routes need."""

from __future__ import annotations

from typing import Any

import psycopg2
import redis
from chalice.app import Request
from photostack import errors

from users import domain

ERRORS = errors.ErrorTable(
    (domain.InvalidRefreshToken, errors.Unauthorized),
    (domain.InvalidInput, errors.BadRequest),
    (domain.EmailTaken, errors.Conflict),
    (domain.InvalidCredentials, errors.Unauthorized),
    (domain.AccountDisabled, errors.Unauthorized),
    (domain.UserNotFound, errors.NotFound),
    (domain.NotAllowed, errors.Forbidden),
    (domain.Throttled, errors.TooManyRequests),
    (domain.DependencyUnavailable, errors.ServiceUnavailable),
    (domain.UsersError, errors.BadRequest),
    outages=errors.Outages((psycopg2.OperationalError, redis.ConnectionError, redis.TimeoutError),
                           "the users service is unavailable right now"),
)

# Turns the domain's exceptions and outages into API errors (put it under ``api_route``).
domain_errors = ERRORS.mapped


def client_ip(request: Request) -> str:
    """The caller's address as API Gateway saw it (not a header the client can forge)."""
    context: dict[str, Any] = request.context or {}
    identity = context.get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")
