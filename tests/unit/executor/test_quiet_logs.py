"""The executor plugin logs each distinct LocalStack deprecation warning once, not once per request."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.unit

MODULE = (Path(__file__).resolve().parents[3] / "infra" / "localstack" / "executor"
          / "photostack_localstack_executor" / "quiet_logs.py")


def quiet_logs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quiet_logs", MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_repeated_deprecation_warning_is_logged_once_and_another_one_still_is(
        caplog: pytest.LogCaptureFixture) -> None:
    module = quiet_logs()
    logger = logging.getLogger("test.deprecations")
    logger.addFilter(module.OncePerMessage())
    path_form = "%s is deprecated (since %s)"
    with caplog.at_level(logging.WARNING, logger="test.deprecations"):
        for _ in range(5):
            logger.warning(path_form, "/restapis/<api_id>/<stage>/_user_request_", "3.8.0")
        logger.warning(path_form, "SOME_SETTING", "4.0")
    assert [r.getMessage() for r in caplog.records] == [
        "/restapis/<api_id>/<stage>/_user_request_ is deprecated (since 3.8.0)",
        "SOME_SETTING is deprecated (since 4.0)",
    ]


def test_the_filter_is_added_to_localstacks_logger_once() -> None:
    module = quiet_logs()
    logger = logging.getLogger(module.DEPRECATIONS_LOGGER)
    before = list(logger.filters)
    try:
        module.log_deprecations_once()
        module.log_deprecations_once()
        assert sum(isinstance(f, module.OncePerMessage) for f in logger.filters) == 1
    finally:
        logger.filters[:] = before


def test_the_request_log_keeps_failed_requests_only() -> None:
    module = quiet_logs()
    logged: list[int] = []

    class Response:
        def __init__(self, status_code: int) -> None:
            self.status_code = status_code

    def log_response(self: object, chain: object, context: object, response: Response) -> None:
        logged.append(response.status_code)

    wrapped = module.failed_only(log_response)
    for status in (200, 204, 302, 400, 404, 429, 500, 502):
        wrapped(object(), None, None, Response(status))
    assert logged == [400, 404, 429, 500, 502]
