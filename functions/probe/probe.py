"""Platform probe (deployed only to local stacks): proves how the runtime behaves.

GET /probe/{action}: ``ok`` answers, ``raise`` lets an exception escape the handler
(a Lambda FunctionError, so API Gateway answers 5xx), ``sleep`` outlives the
function's timeout, ``layer`` imports from the photostack layer, ``env`` shows the
Lambda variables the runtime set.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any


def _response(body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    action = (event.get("pathParameters") or {}).get("action", "ok")
    if action == "raise":
        raise RuntimeError("probe: raised on purpose")
    if action == "sleep":
        time.sleep(context.get_remaining_time_in_millis() / 1000 + 5)
    if action == "layer":
        from photostack import config, tokens

        return _response({"layer": config.__file__, "algorithm": tokens.ALGORITHM})
    if action == "env":
        names = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_TIMEOUT",
                 "AWS_REGION", "PHOTOSTACK_ENV")
        return _response({name: os.environ.get(name) for name in names}
                         | {"remaining_ms": context.get_remaining_time_in_millis(),
                            "request_id": context.aws_request_id})
    if action != "ok":
        return _response({"error": {"code": "not_found", "message": f"unknown probe {action!r}"}}, 404)
    return _response({"ok": True, "function": context.function_name})
