"""HTTP client of the three APIs: bearer tokens, refresh on expiry, errors as exceptions.

Refresh tokens rotate and a spent one revokes the whole login when used again, so
refreshing is serialised: a thread that gets 401 with a token someone else already
replaced just retries with the new one instead of spending the refresh token twice.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from photostack_cli import config

TIMEOUT_S = 30
# Refresh a little before expiry so a request never leaves with a token about to lapse.
EXPIRY_MARGIN_S = 30


class ApiError(Exception):
    """An API answered with an error (``{"error": {"code", "message"}}``) or not at all."""

    def __init__(self, status: int, code: str, message: str, *, api: str = "", details: Any = None) -> None:
        super().__init__(f"{message} ({code}, HTTP {status})" if status else f"{message} ({code})")
        self.status = status
        self.code = code
        self.message = message
        self.api = api
        self.details = details

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


class NotLoggedIn(ApiError):
    def __init__(self, message: str = "not logged in: run `photostack login` first") -> None:
        super().__init__(0, "not_logged_in", message)


def _error_from(response: requests.Response, api: str) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return ApiError(response.status_code, str(err.get("code") or "error"),
                        str(err.get("message") or response.reason), api=api, details=err.get("details"))
    if isinstance(body, dict) and "message" in body:  # API Gateway's own errors
        return ApiError(response.status_code, "gateway_error", str(body["message"]), api=api)
    text = (response.text or response.reason or "").strip()[:200]
    return ApiError(response.status_code, "http_error", text or f"HTTP {response.status_code}", api=api)


def token_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, read without verifying (only to decide when to refresh)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


class Client:
    def __init__(self, settings: config.Settings, *, session: requests.Session | None = None,
                 save_credentials: Callable[[dict[str, Any]], None] = config.save_credentials,
                 credentials: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.http = session or requests.Session()
        self._save_credentials = save_credentials
        self.credentials = credentials if credentials is not None else config.load_credentials()
        self._refresh_lock = threading.Lock()

    # ---- raw requests ---------------------------------------------------------

    def request(self, api: str, method: str, path: str, *, json_body: Any = None,
                params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                auth: bool = True, raw_body: bytes | None = None) -> Any:
        """The decoded JSON answer (None for 204), or :class:`ApiError`."""
        url = self.settings.url(api) + path
        body: dict[str, Any] = {"data": raw_body} if raw_body is not None else {"json": json_body}
        for attempt in (1, 2):
            sent_headers = dict(headers or {})
            token = self.access_token() if auth else None
            if token:
                sent_headers["Authorization"] = f"Bearer {token}"
            try:
                response = self.http.request(method, url, params=params, headers=sent_headers,
                                             timeout=TIMEOUT_S, **body)
            except requests.RequestException as exc:
                raise ApiError(0, "unreachable", f"cannot reach the {api} API at {url}: {exc}",
                               api=api) from exc
            if response.status_code == 401 and auth and attempt == 1:
                error = _error_from(response, api)
                if error.code == "invalid_token":
                    self.refresh(stale=token)
                    continue
            if response.status_code >= 400:
                raise _error_from(response, api)
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise ApiError(response.status_code, "invalid_response",
                               f"the {api} API answered something that is not JSON", api=api) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, api: str, path: str, **kw: Any) -> Any:
        return self.request(api, "GET", path, **kw)

    def post(self, api: str, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request(api, "POST", path, json_body=body if body is not None else {}, **kw)

    def patch(self, api: str, path: str, body: Any, **kw: Any) -> Any:
        return self.request(api, "PATCH", path, json_body=body, **kw)

    def paged(self, api: str, path: str, key: str, *, limit: int | None = None,
              page_size: int = 100, params: dict[str, Any] | None = None) -> list[Any]:
        """Every item of a cursor-paginated list (at most ``limit``)."""
        items: list[Any] = []
        cursor: str | None = None
        while True:
            query = dict(params or {}, limit=page_size)
            if cursor:
                query["cursor"] = cursor
            page = self.get(api, path, params=query)
            items.extend(page.get(key, []))
            cursor = page.get("next_cursor")
            if not cursor or (limit is not None and len(items) >= limit):
                return items[:limit] if limit is not None else items

    # ---- tokens ---------------------------------------------------------------

    def access_token(self) -> str:
        token = self.credentials.get("access_token")
        if not token:
            raise NotLoggedIn()
        expiry = token_expiry(token)
        if expiry is not None and expiry - EXPIRY_MARGIN_S < time.time():
            self.refresh(stale=token)
            token = self.credentials["access_token"]
        return str(token)

    def store_tokens(self, tokens: dict[str, Any], email: str | None = None) -> None:
        self.credentials = {
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "user": tokens.get("user") or self.credentials.get("user"),
            "email": email or self.credentials.get("email"),
            "users_api_url": self.settings.api_urls.get("users"),
        }
        self._save_credentials(self.credentials)

    def refresh(self, *, stale: str | None) -> None:
        with self._refresh_lock:
            if stale is not None and self.credentials.get("access_token") != stale:
                return  # another thread refreshed meanwhile
            refresh_token = self.credentials.get("refresh_token")
            if not refresh_token:
                raise NotLoggedIn()
            try:
                tokens = self.request("users", "POST", "/auth/refresh",
                                      json_body={"refresh_token": refresh_token}, auth=False)
            except ApiError as exc:
                if exc.status == 401:
                    raise NotLoggedIn(f"your session has ended ({exc.message}): run `photostack login`"
                                      ) from exc
                raise
            self.store_tokens(tokens)

    # ---- raw transfers (presigned S3 URLs: no API token) ------------------------

    def transfer(self, method: str, url: str, *, data: Any = None, headers: dict[str, str] | None = None,
                 stream: bool = False, timeout: float = 300) -> requests.Response:
        try:
            response = self.http.request(method, url, data=data, headers=headers, stream=stream,
                                         timeout=timeout)
        except requests.RequestException as exc:
            raise ApiError(0, "storage_unreachable", f"cannot reach storage: {exc}", api="s3") from exc
        if response.status_code >= 400:
            raise ApiError(response.status_code, "storage_error",
                           f"storage refused the transfer: {_s3_error(response.text)}", api="s3")
        return response


def _s3_error(text: str) -> str:
    found = []
    for tag in ("Code", "Message"):
        start, end = text.find(f"<{tag}>"), text.find(f"</{tag}>")
        if 0 <= start < end:
            found.append(text[start + len(tag) + 2:end])
    return ": ".join(found) or text.strip()[:200] or "no details"
