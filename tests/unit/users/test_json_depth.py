"""The layer's JSON body parser bounds nesting: deep JSON is a 400 with a JSON error, never a 500."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from photostack import errors
from photostack.http import MAX_JSON_DEPTH, json_depth_exceeds, read_json

pytestmark = pytest.mark.unit


def request(raw: str | bytes) -> Any:
    return SimpleNamespace(raw_body=raw.encode() if isinstance(raw, str) else raw)


def nested(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


@pytest.mark.parametrize("body", [
    '{"a":' * 1000 + "1" + "}" * 1000,
    "[" * 1000 + "]" * 1000,
    '{"a":' + nested(20_000) + "}",  # fits a 64 KiB body; json.loads raises RecursionError
    '{"a":' + "[" * 5000,  # deep and unterminated: depth is refused before the syntax error
])
def test_deep_json_is_a_400_with_a_json_error(body: str) -> None:
    with pytest.raises(errors.BadRequest) as exc:
        read_json(request(body), max_bytes=1_000_000)
    assert exc.value.code == "json_too_deep"
    assert str(MAX_JSON_DEPTH) in exc.value.message


def test_nesting_up_to_the_bound_is_accepted() -> None:
    body = '{"a":' + nested(MAX_JSON_DEPTH - 1) + "}"
    assert json.loads(body) == read_json(request(body))
    with pytest.raises(errors.BadRequest):
        read_json(request('{"a":' + nested(MAX_JSON_DEPTH) + "}"))


def test_brackets_inside_strings_do_not_count() -> None:
    body = json.dumps({"text": "[" * 500 + '\\"{' * 200, "n": [[1]]})
    assert not json_depth_exceeds(body, MAX_JSON_DEPTH)
    assert read_json(request(body))["n"] == [[1]]


def test_escaped_quotes_do_not_end_a_string() -> None:
    body = '{"a": "\\\\", "b": ' + nested(40) + "}"  # the string is one backslash; then real nesting
    assert json_depth_exceeds(body, MAX_JSON_DEPTH)
    body = '{"a": "\\"' + "[" * 40 + '"}'  # an escaped quote, then brackets still inside the string
    assert not json_depth_exceeds(body, MAX_JSON_DEPTH)
    assert read_json(request(body)) == {"a": '"' + "[" * 40}
