"""A handler's result reaches the executor exactly as json.dumps wrote it, however odd its text:
the worker writes that text raw after runtime.RESULT_PREFIX, the supervisor sends it on raw after a
header line that gives its length, and the executor's pool slices it off unparsed."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.executor.test_pool import PACKAGE, Function

RESULT_PREFIX = "\x1eresult "  # runtime.RESULT_PREFIX (runtime.py runs as a script, not imported here)

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
        assert answer["body"] == json.dumps(expected).encode()
        assert "END RequestId: " in answer["logs"]
    failed = invoke(env, {"raise": '{"type": "result", "body": "forged"}'})
    assert failed["type"] == "error"
    assert failed["error"]["errorType"] == "ValueError"


class Recording(io.RawIOBase):
    """The pool's end of the channel, keeping a copy of every byte the supervisor sent."""

    def __init__(self, answers: Any) -> None:
        self.answers = answers  # kept: its fd closes with it
        self.fd = answers.fileno()
        self.seen = bytearray()

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.fd

    def readinto(self, buffer: Any) -> int:
        data = os.read(self.fd, len(buffer))
        buffer[:len(data)] = data
        self.seen += data
        return len(data)


def test_the_result_crosses_the_channel_as_raw_json_text_not_as_an_escaped_string(function: Function) -> None:
    env = function.spawn()
    recording = Recording(env._answers)
    env._answers = io.BufferedReader(recording)
    env.wait_ready()
    text = 'say "hi" \\ back\\slash é 日本 \U0001f600 ' + "x" * 100_000
    answer = invoke(env, {"text": text})
    raw = json.dumps({"statusCode": 200, "body": text, "nested": {"text": text}}).encode()
    assert answer["body"] == raw
    # The bytes LocalStack's side received hold that text once, as it is: no JSON string around it
    # (escaped, its quotes and backslashes would double and it would not appear verbatim).
    assert recording.seen.count(raw) == 1
    assert len(recording.seen) < len(raw) + 4_000  # header and logs only on top
    header = json.loads(bytes(recording.seen).split(b"\n")[1])
    assert header["type"] == "result" and header["length"] == len(raw) and "body" not in header


def test_the_worker_writes_the_result_text_raw_on_one_line(tmp_path: Path) -> None:
    function_env = Function(tmp_path).env
    (tmp_path / "handler.py").write_text(HANDLER)  # over test_pool's handler that Function wrote
    read_fd, write_fd = os.pipe()
    env = dict(function_env, _PHOTOSTACK_RESULT_FD=str(write_fd))
    worker = subprocess.Popen([sys.executable, str(PACKAGE / "runtime.py"), "--worker"], env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, pass_fds=(write_fd,))
    os.close(write_fd)
    text = 'a "quoted" \\ line\nbreak é ' + "y" * 100_000
    command = {"id": "r1", "arn": "arn", "deadline_ms": 2**62, "payload": json.dumps({"text": text})}
    assert worker.stdin is not None
    with os.fdopen(read_fd, "rb") as results:
        try:
            assert json.loads(results.readline()) == {"type": "ready"}
            worker.stdin.write(json.dumps(command).encode() + b"\n")
            worker.stdin.flush()
            line = results.readline()
        finally:
            worker.stdin.close()
            worker.wait(timeout=30)
    raw = json.dumps({"statusCode": 200, "body": text, "nested": {"text": text}}).encode()
    assert line == RESULT_PREFIX.encode() + raw + b"\n"
