"""Errors that cross the API boundary, their HTTP shape, and how a domain's errors reach it.

Domain code raises its own exceptions (subclasses of :class:`DomainError`, which know no
HTTP); each function's edge maps them in one :class:`ErrorTable` (``api_route(...,
error_table=...)``) to the :class:`ApiError` kinds below, which `photostack.http` turns
into ``{"error": {"code", "message"}}`` responses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
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


class ErrorTable:
    """One function's map from its domain errors to HTTP errors; the first matching row wins."""

    def __init__(self, *rows: tuple[type[DomainError], type[ApiError]]) -> None:
        self.rows = rows

    def to_api_error(self, exc: DomainError) -> ApiError:
        headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s is not None else None
        for kind, api_error in self.rows:
            if isinstance(exc, kind):
                return api_error(exc.message, code=exc.code, headers=headers, details=exc.details)
        return ApiError("internal error")  # a domain error the edge forgot: a bug, a 500

    def mapped[**P, R](self, view: Callable[P, R]) -> Callable[P, R]:
        """``view`` with its domain errors raised as the API errors of this table."""

        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return view(*args, **kwargs)
            except DomainError as exc:
                raise self.to_api_error(exc) from exc

        return wrapped
