"""The photos API's edge: its domain errors as HTTP errors, in one table."""

from __future__ import annotations

from photostack import errors

from photos import errors as e

ERRORS = errors.ErrorTable(
    (e.InvalidRequest, errors.BadRequest),
    (e.UnsupportedContentType, errors.UnsupportedMediaType),
    (e.TooLarge, errors.PayloadTooLarge),
    (e.NotAllowed, errors.Forbidden),
    (e.AlreadyDone, errors.Conflict),
    (e.Throttled, errors.TooManyRequests),
    (e.Unavailable, errors.ServiceUnavailable),
)
