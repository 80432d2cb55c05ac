"""The photos function's refusals, in its own words; ``photos.web.ERRORS`` maps them to HTTP.

The sidecar's refusals arrive already mapped (photostack.rpc maps gRPC status codes to API
errors in one place); these are the ones the photos function decides itself.
"""

from __future__ import annotations

from photostack.errors import DomainError


class PhotosError(DomainError):
    pass


class InvalidRequest(PhotosError):
    """A body, a query parameter or a multipart completion the API cannot take."""


class UnsupportedContentType(PhotosError):
    pass


class TooLarge(PhotosError):
    pass


class NotAllowed(PhotosError):
    pass


class AlreadyDone(PhotosError):
    """The state the request would bring about is already there (an upload completed)."""


class Throttled(PhotosError):
    pass


class Unavailable(PhotosError):
    """A dependency of the function's own (S3, the face-search counter) is down."""
