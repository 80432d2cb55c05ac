"""The OpenAPI document's ?bib= pattern admits exactly what the API takes (photos/bibs.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from photos import errors as e
from photos.bibs import parse_bib

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"
SPACES = [chr(c) for c in range(0x110000) if chr(c).isspace()]


def documented_pattern() -> str:
    parameters = json.loads(DOC.read_text())["paths"]["/events/{event_id}/photos"]["get"]["parameters"]
    [bib] = [p for p in parameters if p["name"] == "bib"]
    return str(bib["schema"]["pattern"])


def accepted(value: str) -> bool:
    try:
        parse_bib(value)
    except e.InvalidRequest:
        return False
    return True


@pytest.mark.parametrize("value", [
    "1234", "a123", " 1234", "1234 ", " A123\t", "\n7\r\n", "\u3000z9\u00a0", "\u0131" + "12", "\u017f" + "1",
    *(f"{s}B42{s}" for s in SPACES),
    "", " ", "1 2", "A 1", "AB1", "1234567", "\u00df" + "1", "\ufeff1", "\u200b1", "12a", "-1", "\u0661",
])
def test_the_documented_pattern_admits_what_the_api_accepts(value: str) -> None:
    assert (re.fullmatch(documented_pattern(), value) is not None) == accepted(value), repr(value)
