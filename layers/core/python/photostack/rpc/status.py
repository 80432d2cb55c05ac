"""gRPC status codes as HTTP errors: the one place where the mapping lives."""

from __future__ import annotations

import grpc

from photostack import errors

_CLIENT_ERRORS: dict[grpc.StatusCode, type[errors.ApiError]] = {
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.PERMISSION_DENIED: errors.Forbidden,
    grpc.StatusCode.UNAUTHENTICATED: errors.Unauthorized,
    grpc.StatusCode.INVALID_ARGUMENT: errors.BadRequest,
    grpc.StatusCode.OUT_OF_RANGE: errors.BadRequest,
    grpc.StatusCode.FAILED_PRECONDITION: errors.Conflict,
    grpc.StatusCode.ALREADY_EXISTS: errors.Conflict,
}

UNAVAILABLE_CODES = frozenset({
    grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED,
})


def unavailable(service: str, message: str = "") -> errors.ServiceUnavailable:
    """503 with Retry-After; the message names ``service`` (the caller's word for it, e.g. "photo")
    unless ``message`` says more."""
    return errors.ServiceUnavailable(message or f"the {service} service is unavailable",
                                     headers={"Retry-After": "1"})


def to_api_error(exc: grpc.RpcError, service: str) -> errors.ApiError:
    """The HTTP error for a failed call of ``service`` (named in the message of a 503)."""
    code = exc.code()  # type: ignore[attr-defined]
    if code in UNAVAILABLE_CODES:
        return unavailable(service)
    kind = _CLIENT_ERRORS.get(code)
    if kind is None:
        # Anything else is the service's fault, not the caller's; its details stay in the logs.
        return errors.ApiError("upstream error", code="upstream_error")
    return kind(exc.details() or code.name.lower())  # type: ignore[attr-defined]
