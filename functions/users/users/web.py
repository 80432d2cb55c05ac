"""The users domain's errors as HTTP errors, and request details the routes need."""

from __future__ import annotations

import functools
from collections.abc import Callable
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
)


def domain_errors[**P, R](view: Callable[P, R]) -> Callable[P, R]:
    """Turn the domain's exceptions into API errors (put it under ``api_route``)."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return view(*args, **kwargs)
        except domain.UsersError as exc:
            raise ERRORS.to_api_error(exc) from exc
        except (psycopg2.OperationalError, redis.ConnectionError, redis.TimeoutError) as exc:
            # An outage, not a bug: say so, and let the client retry later.
            raise errors.ServiceUnavailable("the users service is unavailable right now") from exc

    return wrapped


def client_ip(request: Request) -> str:
    """The caller's address as API Gateway saw it (not a header the client can forge)."""
    context: dict[str, Any] = request.context or {}
    identity = context.get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")
