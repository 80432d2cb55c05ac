"""LocalStack's deprecation warnings, each distinct one logged once instead of once per request.

Every API request of this stack uses the path form ``/restapis/<id>/<stage>/_user_request_/``
(the host-name form needs LocalStack's DNS, which has no upstream here), and LocalStack logs the
same deprecation warning for each one: about a sixth of LocalStack's busy CPU under ``ab -c 32``
(py-spy, logging.Logger.warning under deprecated_endpoint), and a log file that is mostly that
line. The first occurrence of each message is still logged.
"""

from __future__ import annotations

import logging
import threading

DEPRECATIONS_LOGGER = "localstack.deprecations"
_MAX_REMEMBERED = 1000


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
