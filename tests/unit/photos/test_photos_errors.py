"""The photos API's one error table: each of its domain errors answers the status and body
the routes answered when the domain raised HTTP errors itself."""

from __future__ import annotations

import pytest
from photos import errors as e
from photos.web import ERRORS

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("error", "status", "code"), [
    (e.InvalidRequest("name is required", code="invalid_field"), 400, "invalid_field"),
    (e.InvalidRequest("enabled must be true or false"), 400, "bad_request"),
    (e.UnsupportedContentType("content_type must be one of ...", code="unsupported_content_type"), 415,
     "unsupported_content_type"),
    (e.TooLarge("uploads are limited to ...", code="upload_too_large"), 413, "upload_too_large"),
    (e.NotAllowed("only the photographer who reserved this upload may complete it"), 403, "forbidden"),
    (e.AlreadyDone("this upload is already complete", code="upload_complete"), 409, "upload_complete"),
    (e.Unavailable("storage is unavailable"), 503, "service_unavailable"),
])
def test_each_domain_error_has_its_status_and_body(error: e.PhotosError, status: int, code: str) -> None:
    answer = ERRORS.to_api_error(error)
    assert (answer.status, answer.body()) == (status, {"error": {"code": code, "message": error.message}})
    assert answer.headers == {}


def test_throttled_says_when_to_come_back() -> None:
    answer = ERRORS.to_api_error(e.Throttled("too many face searches; try again in 7 s", code="rate_limited",
                                             retry_after_s=7))
    assert (answer.status, answer.code, answer.headers) == (429, "rate_limited", {"Retry-After": "7"})


def test_every_photos_error_has_a_row() -> None:
    kinds = {cls for cls in vars(e).values() if isinstance(cls, type) and issubclass(cls, e.PhotosError)}
    mapped = {kind for kind, _ in ERRORS.rows}
    assert kinds - {e.PhotosError} <= mapped
