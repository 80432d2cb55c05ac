"""Errors that cross the API boundary, their HTTP shape, and how a domain's errors reach it.

Domain code raises its own exceptions (subclasses of :class:`DomainError`, which know no
HTTP); each function's edge maps them in one :class:`ErrorTable` (``api_route(...,
error_table=...)``) to the :class:`ApiError` kinds below, which `photostack.http` turns
into ``{"error": {"code", "message"}}`` responses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, headers: dict[str, str] | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.headers = headers or {}
        self.details = details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


class Unprocessable(ApiError):
    status = 422
    code = "unprocessable"


class TooManyRequests(ApiError):
    status = 429
    code = "too_many_requests"


class ServiceUnavailable(ApiError):
    status = 503
    code = "service_unavailable"


class DomainError(Exception):
    """A domain's refusal in its own words. ``code`` is the machine-readable code clients see
    (a subclass may fix it; None: the mapped HTTP error's default); ``retry_after_s`` becomes
    a Retry-After header."""

    code: str | None = None

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None,
                 retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Outages:
    """Exceptions that mean a dependency is down, not a bug (a database that refuses the
    connection, a Redis timeout): answered 503 with ``message`` (``code``, and Retry-After when
    ``retry_after_s`` is set), so the client retries later instead of seeing a 500."""

    kinds: tuple[type[Exception], ...]
    message: str
    code: str | None = None
    retry_after_s: int | None = None

    def to_api_error(self) -> ServiceUnavailable:
        headers = {"Retry-After": str(self.retry_after_s)} if self.retry_after_s is not None else None
        return ServiceUnavailable(self.message, code=self.code, headers=headers)


class ErrorTable:
    """One function's map from its domain errors to HTTP errors; the first matching row wins.
    ``outages``: the function's dependency failures that are a 503 wherever they surface."""

    def __init__(self, *rows: tuple[type[DomainError], type[ApiError]],
                 outages: Outages | None = None) -> None:
        self.rows = rows
        self.outages = outages

    def to_api_error(self, exc: DomainError) -> ApiError:
        headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s is not None else None
        for kind, api_error in self.rows:
            if isinstance(exc, kind):
                return api_error(exc.message, code=exc.code, headers=headers, details=exc.details)
        return ApiError("internal error")  # a domain error the edge forgot: a bug, a 500

    def mapped[**P, R](self, view: Callable[P, R]) -> Callable[P, R]:
        """``view`` with its domain errors (and outages) raised as the API errors of this table."""
        outages = self.outages
        down = outages.kinds if outages is not None else ()

        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return view(*args, **kwargs)
            except DomainError as exc:
                raise self.to_api_error(exc) from exc
            except down as exc:
                assert outages is not None
                raise outages.to_api_error() from exc

        return wrapped
