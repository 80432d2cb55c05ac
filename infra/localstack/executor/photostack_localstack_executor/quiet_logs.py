"""LocalStack's deprecation warnings, each distinct one logged once instead of once per request.

Every API request of this stack uses the path form ``/restapis/<id>/<stage>/_user_request_/``
(the host-name form needs LocalStack's DNS, which has no upstream here), and LocalStack logs the
same deprecation warning for each one: about a sixth of LocalStack's busy CPU under ``ab -c 32``
(py-spy, logging.Logger.warning under deprecated_endpoint), and a log file that is mostly that
line. The first occurrence of each message is still logged.

LocalStack's request log (``localstack.request.*``): one INFO line per API request and per
internal request, built from copies of the request's and response's headers and bodies before the
logger even checks its level: about a tenth of LocalStack's busy CPU under ``ab -c 32`` (py-spy,
``ResponseLogger``). Here only requests that failed (status 400 and up, with LocalStack's line and
error code as before) are logged; ``PHOTOSTACK_LOCALSTACK_REQUEST_LOG=all`` logs every request.

Twisted's access log: the HTTP server (rolo's ``TwistedGateway``, a twisted ``Site``) formats a
combined-log-format line per request and writes it to ``twisted.python.log.logfile``, which nothing
in LocalStack reads: no twisted log observer is ever started, so the lines only fill twisted's
start-up buffer (LocalStack's log has none of them). About 3% of LocalStack's busy CPU under
``ab -c 32`` (py-spy --gil, ``HTTPFactory.log``); the server no longer writes them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

DEPRECATIONS_LOGGER = "localstack.deprecations"
_MAX_REMEMBERED = 1000
REQUEST_LOG_ENV = "PHOTOSTACK_LOCALSTACK_REQUEST_LOG"


class OncePerMessage(logging.Filter):
    """Lets a record through the first time its message is seen."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg) if not record.args else record.getMessage()
        with self._lock:
            if message in self._seen:
                return False
            if len(self._seen) < _MAX_REMEMBERED:
                self._seen.add(message)
        return True


def log_deprecations_once() -> None:
    logger = logging.getLogger(DEPRECATIONS_LOGGER)
    if not any(isinstance(f, OncePerMessage) for f in logger.filters):
        logger.addFilter(OncePerMessage())


def failed_only(log_response: Callable[..., None]) -> Callable[..., None]:
    """A ``ResponseLogger.__call__`` that logs a response only when its status is 400 or more."""
    def __call__(self: Any, chain: Any, context: Any, response: Any) -> None:
        if response.status_code >= 400:
            log_response(self, chain, context, response)

    __call__.photostack_failed_only = True  # type: ignore[attr-defined]
    return __call__


def log_failed_requests_only() -> None:
    if os.environ.get(REQUEST_LOG_ENV, "errors").strip().lower() == "all":
        return
    from localstack.aws.handlers.logging import ResponseLogger

    if not getattr(ResponseLogger.__call__, "photostack_failed_only", False):
        ResponseLogger.__call__ = failed_only(ResponseLogger.__call__)  # type: ignore[method-assign]


def no_access_log(self: Any, request: Any) -> None:
    """``Site.log`` (one access-log line per request), writing nothing."""


no_access_log.photostack_no_access_log = True  # type: ignore[attr-defined]


def drop_twisted_access_log() -> None:
    from rolo.serving.twisted import TwistedGateway

    if not getattr(TwistedGateway.log, "photostack_no_access_log", False):
        TwistedGateway.log = no_access_log  # type: ignore[method-assign]
