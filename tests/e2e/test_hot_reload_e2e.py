"""Hot reload through LocalStack: a saved edit of a function's code or of its layer reaches the next
invocation, with no deploy, and other functions keep their warm environments.

The functions run temporary copies (never files of the repository, which others edit): their code and
their layer are LocalStack ``hot-reload`` locations (``S3Bucket=hot-reload``, ``S3Key=<folder>``), as
``make dev`` deploys the stack's. The deadline below is for correctness and generous; the measured
latency from the save to the first answer with the new code is printed (LocalStack's reference:
up to ~700 ms, 500 ms of it the quiet wait).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import aws_client

pytestmark = pytest.mark.e2e

DEADLINE_S = 10.0  # correctness, not speed: the new code must show up, well within this
HANDLER = '''import os
import hotlayer

CALLS = 0  # warm state: counts the invocations this worker has served


def handler(event, context):
    global CALLS
    CALLS += 1
    return {{"code": {code!r}, "layer": hotlayer.VERSION, "pid": os.getpid(), "calls": CALLS}}
'''
LAYER = 'VERSION = {version!r}\n'


def write(path: Path, text: str) -> float:
    """Save like an editor does (write, flush, close); the moment it is saved."""
    path.write_text(text)
    return time.monotonic()


def invoke(lam: Any, name: str) -> dict[str, Any]:
    response = lam.invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return dict(body)


def until_changed(lam: Any, name: str, saved_at: float, key: str,
                  expected: str) -> tuple[dict[str, Any], float]:
    """Invoke until the answer shows the saved edit; the answer and the seconds from the save."""
    while True:
        answer = invoke(lam, name)
        if answer[key] == expected:
            return answer, time.monotonic() - saved_at
        assert time.monotonic() - saved_at < DEADLINE_S, f"{name} runs {answer} {DEADLINE_S} s after the save"


@pytest.fixture
def hot_functions(tmp_path: Path) -> Iterator[dict[str, Any]]:
    lam = aws_client("lambda")
    suffix = uuid.uuid4().hex[:8]
    layer_dir = tmp_path / "layer"
    (layer_dir / "python").mkdir(parents=True)
    write(layer_dir / "python" / "hotlayer.py", LAYER.format(version="layer-1"))
    layer = lam.publish_layer_version(LayerName=f"hot-test-{suffix}",
                                      Content={"S3Bucket": "hot-reload", "S3Key": str(layer_dir)},
                                      CompatibleRuntimes=["python3.13"])
    names, folders = [], {}
    for fn in ("edited", "bystander"):
        folder = tmp_path / fn
        folder.mkdir()
        write(folder / "handler.py", HANDLER.format(code="code-1"))
        name = f"hot-test-{fn}-{suffix}"
        lam.create_function(FunctionName=name, Runtime="python3.13", Handler="handler.handler",
                            Role="arn:aws:iam::000000000000:role/hot-test", Timeout=10,
                            Code={"S3Bucket": "hot-reload", "S3Key": str(folder)},
                            Layers=[layer["LayerVersionArn"]])
        names.append(name)
        folders[fn] = folder
    for name in names:
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    try:
        yield {"lam": lam, "edited": names[0], "bystander": names[1], "folders": folders, "layer": layer_dir}
    finally:
        for name in names:
            lam.delete_function(FunctionName=name)
        lam.delete_layer_version(LayerName=f"hot-test-{suffix}", VersionNumber=layer["Version"])


def test_a_saved_edit_of_a_function_or_its_layer_reaches_the_next_invocation(
        hot_functions: dict[str, Any]) -> None:
    lam, edited, bystander = hot_functions["lam"], hot_functions["edited"], hot_functions["bystander"]
    first = invoke(lam, edited)
    assert (first["code"], first["layer"]) == ("code-1", "layer-1")
    warm = invoke(lam, bystander)
    assert warm["calls"] >= 1

    # The function's own code (a different length: Python's bytecode cache keys on mtime seconds and size).
    saved = write(hot_functions["folders"]["edited"] / "handler.py", HANDLER.format(code="code-two"))
    answer, code_latency = until_changed(lam, edited, saved, "code", "code-two")
    assert answer["layer"] == "layer-1"
    assert answer["calls"] == 1  # the worker started afresh: its init code ran again, as on LocalStack

    # The layer, shared by both functions: both run the saved layer.
    saved = write(hot_functions["layer"] / "python" / "hotlayer.py", LAYER.format(version="layer-two"))
    answer, layer_latency = until_changed(lam, edited, saved, "layer", "layer-two")
    assert answer["code"] == "code-two"
    print(f"\nhot reload, save -> first answer with the saved code: function {code_latency * 1000:.0f} ms, "
          f"layer {layer_latency * 1000:.0f} ms (LocalStack's reference: up to ~700 ms)")


def test_an_edit_elsewhere_leaves_a_warm_environment_warm(hot_functions: dict[str, Any]) -> None:
    lam, edited, bystander = hot_functions["lam"], hot_functions["edited"], hot_functions["bystander"]
    calls_by_worker: dict[int, int] = {}
    for _ in range(3):
        answer = invoke(lam, bystander)
        calls_by_worker[answer["pid"]] = answer["calls"]
    saved = write(hot_functions["folders"]["edited"] / "handler.py", HANDLER.format(code="code-three"))
    until_changed(lam, edited, saved, "code", "code-three")
    after = invoke(lam, bystander)
    # A worker it had before, its module state intact: the edit of another function's folder did not
    # restart it (a restarted worker would be a new process counting from 1).
    assert after["pid"] in calls_by_worker, (after, calls_by_worker)
    assert after["calls"] == calls_by_worker[after["pid"]] + 1
    assert after["code"] == "code-1"
