"""A handler's result reaches the executor exactly as json.dumps wrote it, however odd its text:
the supervisor passes the worker's JSON literal on without decoding it (runtime.RESULT_PREFIX)."""

from __future__ import annotations

import json
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.executor.test_pool import Function

pytestmark = pytest.mark.integration

ODD = ['}\n', '{"type": "result", "body": "x"}', '\\"', "\u2028 é 日本 \U0001f600", "\x00\x1e end", "",
       "a" * 200_000]

HANDLER = textwrap.dedent('''
    def handler(event, context):
        if event.get("raise"):
            raise ValueError(event["raise"])
        return {"statusCode": 200, "body": event["text"], "nested": {"text": event["text"]}}
''')


@pytest.fixture
def function(tmp_path: Path) -> Iterator[Function]:
    fn = Function(tmp_path)
    (tmp_path / "handler.py").write_text(HANDLER)
    yield fn
    for env in fn.spawned:
        env.stop()


def invoke(env: Any, payload: dict[str, Any]) -> dict[str, Any]:
    invocation = {"invoke-id": str(uuid.uuid4()), "invoked-function-arn": "arn:aws:lambda:results",
                  "payload": json.dumps(payload)}
    return dict(env.invoke(invocation, wait_s=60))


def test_odd_results_arrive_unchanged_and_errors_still_come_as_errors(function: Function) -> None:
    env = function.spawn()
    env.wait_ready()
    for text in ODD:
        answer = invoke(env, {"text": text})
        assert answer["type"] == "result", answer
        expected = {"statusCode": 200, "body": text, "nested": {"text": text}}
        assert answer["body"] == json.dumps(expected)
        assert "END RequestId: " in answer["logs"]
    failed = invoke(env, {"raise": '{"type": "result", "body": "forged"}'})
    assert failed["type"] == "error"
    assert failed["error"]["errorType"] == "ValueError"
