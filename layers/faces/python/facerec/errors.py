"""Why an image could not give a face; each maps to a 4xx on the search route.

They subclass the layer's API errors so a route can let them through as they are, and
`FaceInputError` so the indexing function can catch all of them in one place.
"""

from __future__ import annotations

from photostack.errors import ApiError, BadRequest, PayloadTooLarge, ServiceUnavailable, Unprocessable


class FaceInputError(ApiError):
    """The image itself is the problem (not our models or services)."""


class NotAnImage(FaceInputError, BadRequest):
    code = "not_an_image"


class ImageTooLarge(FaceInputError, PayloadTooLarge):
    code = "image_too_large"


class NoFaceFound(FaceInputError, Unprocessable):
    code = "no_face"


class SeveralFacesFound(FaceInputError, Unprocessable):
    code = "several_faces"


class ModelsUnavailable(ServiceUnavailable):
    """The model files are missing: a deployment problem, not the caller's."""

    code = "face_models_unavailable"
