"""What the photos API's routes accept and answer, as OpenAPI (see photostack.apispec).

``infra/openapi.py`` joins this with ``app.routes`` into ``docs/openapi.json``; a route of
``app.py`` without an entry here (or an entry without a route) fails that build. The upload
limits are the contract's and the domain's own, so the document states the real ones.
"""

from __future__ import annotations

from photostack import contract
from photostack.apispec import (
    BOOL,
    INT,
    MINOR,
    NTIME,
    PAGE,
    STR,
    TIME,
    UUID,
    ApiSpec,
    Operation,
    enum,
    obj,
    page_of,
    ref,
)

from photos import domain

VISIBILITY = enum(contract.VISIBILITIES)
# The photo service stores the subject of the caller's token as it is: a UUID for accounts of the
# users API, but not promised to be one (Schemathesis found events of test-minted subjects).
OWNER_ID = {"type": "string", "description": "the photographer's user id"}
MIB = 1024 * 1024

SPEC = ApiSpec(
    schemas={
        "NewEvent": obj(required=("name", "date"), name={"type": "string", "maxLength": 200},
                        date={"type": "string", "format": "date"}, place=STR, visibility=VISIBILITY),
        "Event": obj(required=("id", "owner_id", "name", "date", "place", "visibility", "created_at"),
                     id=UUID, owner_id=OWNER_ID, name=STR, date=STR, place=STR, visibility=VISIBILITY,
                     created_at=NTIME),
        "EventPage": page_of("events", "Event"),
        "Derivative": obj(required=("url", "width", "height", "bytes", "content_type"),
                          url={"type": "string", "description": "presigned GET, short-lived"},
                          width=INT, height=INT, bytes=INT, content_type=STR),
        "Photo": obj(
            required=("id", "event_id", "owner_id", "status", "visibility", "price", "access",
                      "derivatives"),
            id=UUID, event_id=UUID, owner_id=OWNER_ID,
            status=enum(contract.STATUSES),
            visibility=VISIBILITY,
            price={"oneOf": [obj(required=("minor", "currency"), minor=MINOR, currency=STR),
                             {"type": "null"}]},
            width={"type": ["integer", "null"]}, height={"type": ["integer", "null"]},
            captured_at=NTIME, camera={"type": ["string", "null"]}, created_at=NTIME, updated_at=NTIME,
            access={"type": "string", "enum": ["full", "preview"],
                    "description": "full: the photographer, a buyer of the photo or an admin, who get "
                                   "every size; preview: everyone else, who get only the thumbnail and "
                                   "the watermarked preview"},
            derivatives={"type": "object", "additionalProperties": ref("Derivative"),
                         "description": "by kind (<size>_<format>, e.g. thumb_jpg, preview_webp, web_jpg); "
                                        "with access preview only thumb_* and preview_* (watermarked) are "
                                        "present, the clean web_* sizes come with access full"},
            content_type={"type": "string", "description": "owner only"},
            size_bytes={"type": "integer", "description": "owner only"},
            sha256={"type": ["string", "null"], "description": "owner only"},
            failure_reason={"type": ["string", "null"], "description": "owner only; set when failed"},
            faces={"oneOf": [obj(required=("count", "indexed_at"), count=INT, indexed_at=TIME),
                             {"type": "null"}],
                   "description": "owner only; null until indexed for face search (count 0: no face found)"},
            bib=obj(required=("number", "confidence", "box"), number=STR,
                    confidence={"type": "number", "minimum": 0, "maximum": 1},
                    box={"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4,
                         "description": "x1, y1, x2, y2 in pixels of the web size"}) | {
                "description": "only in answers to ?bib=: where and how surely that number was read"},
        ),
        "PhotoPage": page_of("photos", "Photo"),
        "Selfie": obj(required=("image_base64",), image_base64={
            "type": "string",
            "description": "JPEG, PNG or WebP, base64 (a data: URL too); at most 5 MiB decoded"}),
        "FaceMatch": obj(required=("photo_id", "score", "thumb_url"), photo_id=UUID,
                         score={"type": "number",
                                "description": "cosine similarity of the best face, 0.35-1"},
                         thumb_url={"type": ["string", "null"], "description": "presigned GET, short-lived"}),
        "FaceMatchPage": page_of("matches", "FaceMatch"),
        "FaceIndexingChange": obj(required=("enabled",), enabled=BOOL, image_base64={
            "type": "string", "description": "required to opt out: your selfie; only its embedding is kept"}),
        "FaceIndexing": obj(required=("enabled", "reference_stored"), enabled=BOOL, reference_stored=BOOL,
                            notice=STR),
        "PhotoPatch": obj(price_minor=MINOR, currency={"type": "string", "maxLength": 3},
                          visibility=VISIBILITY),
        "UploadRequest": obj(
            required=("event_id", "content_type", "size_bytes"), event_id=UUID,
            content_type=enum(contract.CONTENT_TYPES),
            size_bytes={"type": "integer", "minimum": 1, "maximum": contract.MAX_UPLOAD_BYTES},
            filename=STR,
        ),
        "PresignedPut": obj(
            required=("method", "url", "expires_in", "headers"), method={"const": "PUT"},
            url={"type": "string", "description": "PUT the bytes here with exactly these headers"},
            expires_in=INT, headers={"type": "object", "additionalProperties": STR},
        ),
        "PresignedMultipart": obj(
            required=("method", "upload_id", "parts", "expires_in", "complete_path"),
            method={"const": "MULTIPART"}, upload_id=STR, expires_in=INT,
            parts={"type": "array", "items": obj(required=("part_number", "size_bytes", "url"),
                                                 part_number=INT, size_bytes=INT, url=STR)},
            complete_path={"type": "string", "description": "POST the ETags here when every part is sent"},
        ),
        "UploadStarted": obj(
            required=("photo_id", "event_id", "status", "upload"), photo_id=UUID, event_id=UUID,
            status={"const": contract.PENDING},
            upload={"oneOf": [ref("PresignedPut"), ref("PresignedMultipart")]},
        ) | {"description": (
            f"upload.method is PUT up to {domain.MULTIPART_THRESHOLD // MIB} MiB, MULTIPART above "
            f"(parts of {domain.PART_BYTES // MIB} MiB, the last one smaller)")},
        "UploadCompletion": obj(
            required=("upload_id", "parts"), upload_id=STR,
            parts={"type": "array", "minItems": 1,
                   "items": obj(required=("part_number", "etag"), part_number=INT, etag=STR)},
        ),
        "UploadCompleted": obj(required=("photo_id", "status"), photo_id=UUID,
                               status={"const": contract.PENDING}),
    },
    operations={
        ("POST", "/events"): Operation(
            "Create an event", (201, "Event"), roles=contract.EVENT_CREATORS, body="NewEvent",
            idempotency="optional", errors={400: ("invalid_field", "unknown_field"), 409: ("conflict",)}),
        ("GET", "/events"): Operation("Events you can see", (200, "EventPage"), query=(*PAGE, "mine")),
        ("GET", "/events/{event_id}"): Operation("One event", (200, "Event"), errors={404: ("not_found",)}),
        ("GET", "/events/{event_id}/photos"): Operation(
            "An event's photos, page by page; with ?bib= only the photos where that bib number was "
            "read, surest first", (200, "PhotoPage"), query=(*PAGE, "bib"),
            errors={400: ("bad_request",), 404: ("not_found",)}),
        ("GET", "/photos/{photo_id}"): Operation("One photo", (200, "Photo"),
                                                  errors={404: ("not_found",)}),
        ("PATCH", "/photos/{photo_id}"): Operation(
            "Set a photo's price or visibility (its photographer)", (200, "Photo"), body="PhotoPatch",
            errors={400: ("invalid_field", "unknown_field"), 403: ("forbidden",), 404: ("not_found",)}),
        ("DELETE", "/photos/{photo_id}"): Operation(
            "Delete a photo (its photographer): with its files when nobody bought it; a sold photo is "
            "unlisted instead (gone from browsing, search and sale; its buyers keep their downloads)",
            (204, None),
            errors={403: ("forbidden",), 404: ("not_found",)}),
        ("POST", "/uploads"): Operation(
            "Reserve a photo and get a presigned upload (one PUT, or multipart for big files); replaying "
            "the Idempotency-Key of a photo that is no longer pending is a 409 with no upload URL",
            (201, "UploadStarted"),
            roles=contract.UPLOADERS, body="UploadRequest", idempotency="optional",
            errors={400: ("invalid_field", "unknown_field"), 404: ("not_found",), 403: ("forbidden",),
                    409: ("conflict",), 413: ("upload_too_large",), 415: ("unsupported_content_type",)}),
        ("POST", "/events/{event_id}/face-search"): Operation(
            "Find your photos in an event from one selfie (exactly one face), best first; faces of "
            "people who opted out are never found; limited per account and per client address "
            "(429 with Retry-After)",
            (200, "FaceMatchPage"), body="Selfie", query=PAGE,
            errors={400: ("invalid_image", "not_an_image"), 404: ("not_found",),
                    413: ("image_too_large", "payload_too_large"), 422: ("no_face", "several_faces"),
                    429: ("rate_limited",), 503: ("face_models_unavailable",)}),
        ("PUT", "/users/me/face-indexing"): Operation(
            "Opt out of (or back into) face search: faces matching your selfie are left out of every "
            "search, yours included (from the next search on)", (200, "FaceIndexing"),
            body="FaceIndexingChange",
            errors={400: ("invalid_image", "not_an_image", "bad_request"),
                    413: ("image_too_large", "payload_too_large"), 422: ("no_face", "several_faces")}),
        ("POST", "/uploads/{photo_id}/complete"): Operation(
            "Complete a multipart upload with the parts' ETags", (200, "UploadCompleted"),
            roles=contract.UPLOADERS, body="UploadCompletion",
            errors={400: ("invalid_field", "invalid_upload"), 403: ("forbidden",), 404: ("not_found",),
                    409: ("upload_complete",), 413: ("upload_too_large",)}),
    },
    query={
        "mine": {"name": "mine", "in": "query", "required": False, "schema": {"type": "boolean"},
                 "description": "only the caller's own events"},
        "bib": {"name": "bib", "in": "query", "required": False,
                "schema": {"type": "string", "pattern": contract.BIB_QUERY_PATTERN},
                "description": "a bib number (1-6 digits, optionally after one letter, either case; "
                               "whitespace around it is ignored): only the photos where it was read, "
                               "surest first"},
    },
)
