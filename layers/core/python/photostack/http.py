"""Chalice glue shared by the API functions: JSON bodies, errors, auth, request logs.

Routes are declared with :func:`api_route` instead of ``app.route`` so every view
gets the same treatment: the request id is bound for logging, :class:`ApiError`
becomes ``{"error": {"code", "message"}}`` with its status, anything unexpected
becomes a 500 with the same shape and no traceback, and one JSON log line is
written per request.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from chalice import Chalice, Response  # type: ignore[attr-defined]
from chalice.app import Request

from photostack import errors, metrics
from photostack.account_status import get_account_status
from photostack.config import get_settings
from photostack.jsonlog import elapsed_ms, get_logger, request_id_var
from photostack.tokens import Principal, TokenError, verify_access_token

log = get_logger("http")

JSON_HEADERS = {"Content-Type": "application/json"}

# No request body of ours nests deeper than a few levels; a bound keeps the parser's
# recursion (and the work a body can cause) small. Deep bodies are a 400 before parsing.
MAX_JSON_DEPTH = 32
# A JSON string literal (escapes included), or one bracket. Strings are matched first so
# that brackets inside them are skipped; the scan is linear in the body's length.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]+|\\.)*"?|[\[\]{}]')


def json_text(body: Any) -> str:
    """``body`` as the JSON text every answer carries."""
    return json.dumps(body, default=str)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return json_text_response(json_text(body), status, headers)


def json_text_response(text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """An answer whose JSON text (:func:`json_text`) was made, or kept, beforehand."""
    return Response(body=text, status_code=status,
                    headers={**JSON_HEADERS, **cors_headers(), **(headers or {})})


def cors_headers() -> dict[str, str]:
    """The web app's origin (template.yaml WebOrigin) may read every answer, errors included;
    no other origin. API Gateway answers the preflight itself (the APIs' Cors property)."""
    origin = get_settings().web_origin
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {}


def error_response(exc: errors.ApiError) -> Response:
    return json_response(exc.body(), exc.status, exc.headers)


REQUEST_ID_HEADER = "X-Request-Id"


def _traced(result: Any, request_id: str | None) -> Any:
    """Hand the caller the id under which this request is logged (`make logs REQUEST=<id>`)."""
    if request_id and isinstance(result, Response):
        result.headers = {**(result.headers or {}), REQUEST_ID_HEADER: str(request_id)}
    return result


def api_route(app: Chalice, path: str, *, error_table: errors.ErrorTable | None = None,
              **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``app.route`` plus error mapping (the function's domain errors through ``error_table``)
    and request logging."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        handler = view if error_table is None else error_table.mapped(view)

        @functools.wraps(view)
        def wrapped(*args: Any, **kw: Any) -> Any:
            request = app.current_request
            context = (request.context if request is not None else {}) or {}
            token = request_id_var.set(context.get("requestId"))
            start = time.perf_counter()
            status = 500
            try:
                if request is not None:
                    require_json_body(request)
                result = handler(*args, **kw)
                status = result.status_code if isinstance(result, Response) else 200
                return _traced(result, context.get("requestId"))
            except errors.ApiError as exc:
                status = exc.status
                return _traced(error_response(exc), context.get("requestId"))
            except Exception:
                log.exception("unhandled error", extra={"route": path})
                return _traced(error_response(errors.ApiError("internal error")), context.get("requestId"))
            finally:
                log.info("request", extra={
                    "method": request.method if request is not None else None,
                    "route": path, "status": status, "duration_ms": elapsed_ms(start),
                })
                metrics.emit("Requests", route=path, status_class=f"{status // 100}xx")
                if status >= 500:
                    metrics.emit("Errors", route=path)
                request_id_var.reset(token)

        # Chalice would refuse other media types itself, as a 415 in its own {"Code", "Message"}
        # shape; every type reaches the view instead, and require_json_body answers in ours.
        app.route(path, **{"content_types": ["*/*"], **kwargs})(wrapped)
        return wrapped

    return decorator


def require_json_body(request: Request) -> None:
    """A body must be JSON: 415 for a body sent as another media type (none given: JSON assumed)."""
    if not request.raw_body:
        return
    headers: dict[str, str] = dict(request.headers or {})
    media_type = headers.get("content-type", "application/json").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise errors.UnsupportedMediaType(f"the body must be application/json, not {media_type or 'untyped'}")


def read_json(request: Request, *, max_bytes: int | None = None, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object, or a clear 4xx."""
    limit = max_bytes if max_bytes is not None else get_settings().max_body_bytes
    raw = request.raw_body or b""
    if len(raw) > limit:
        raise errors.PayloadTooLarge(f"request body is larger than {limit} bytes")
    if not raw.strip():
        if required:
            raise errors.BadRequest("request body must be a JSON object", code="invalid_json")
        return {}
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise errors.BadRequest("request body must be a JSON object", code="invalid_json")
    return body


def parse_json(raw: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Any JSON document, or a 400: ``invalid_json``, or ``json_too_deep`` past ``max_depth``."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise errors.BadRequest("request body is not valid JSON", code="invalid_json") from exc
    if json_depth_exceeds(text, max_depth):
        raise errors.BadRequest(f"request body nests deeper than {max_depth} levels", code="json_too_deep")
    try:
        return json.loads(text)
    except RecursionError as exc:  # unreachable after the depth check; kept as a last line
        raise errors.BadRequest(f"request body nests deeper than {max_depth} levels",
                                code="json_too_deep") from exc
    except ValueError as exc:
        raise errors.BadRequest("request body is not valid JSON", code="invalid_json") from exc


def json_depth_exceeds(text: str, max_depth: int) -> bool:
    """Whether arrays/objects in ``text`` nest deeper than ``max_depth`` (brackets inside
    strings ignored). Malformed text is left for the parser to refuse."""
    if text.count("[") + text.count("{") <= max_depth:
        return False  # the common case: too few brackets to nest that deep at all
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > max_depth:
                return True
        elif token in ("]", "}"):
            depth -= 1
    return False


def bearer_token(request: Request) -> str:
    headers: dict[str, str] = dict(request.headers or {})
    header = headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.Unauthorized("missing bearer token", code="missing_token")
    return token.strip()


def account_status_check(principal: Principal) -> None:
    """The default check of what the token cannot say: disabled account, revoked version."""
    get_account_status().check(principal)


# Checks the token alone cannot answer. By default the account status that the users
# function publishes in Redis; replace it (e.g. in a test) to check something else.
principal_check: Callable[[Principal], None] | None = account_status_check


def authenticate(request: Request, roles: Iterable[str] | None = None) -> Principal:
    """The caller, from a valid access token; 401 without one, 403 for a wrong role."""
    try:
        principal = verify_access_token(bearer_token(request))
    except TokenError as exc:
        raise errors.Unauthorized(str(exc), code="invalid_token") from exc
    if principal_check is not None:
        principal_check(principal)
    if roles is not None and principal.role not in set(roles):
        raise errors.Forbidden("this action needs the role " + " or ".join(sorted(set(roles))),
                               code="wrong_role")
    return principal


def query_param(request: Request, name: str, default: str | None = None) -> str | None:
    params: dict[str, str] = dict(request.query_params or {})
    return params.get(name, default)


def int_query_param(request: Request, name: str, default: int, *, lo: int, hi: int) -> int:
    raw = query_param(request, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise errors.BadRequest(f"{name} must be an integer") from exc
    if not lo <= value <= hi:
        raise errors.BadRequest(f"{name} must be between {lo} and {hi}")
    return value
