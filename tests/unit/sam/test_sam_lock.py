"""The SAM CLI's own virtualenv installs from a lock that agrees with infra/sam/requirements.txt."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_locks import pins

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]


def test_the_sam_cli_is_locked_at_its_pinned_version() -> None:
    wanted, locked = pins(ROOT / "infra/sam/requirements.txt"), pins(ROOT / "infra/sam/requirements.lock")
    assert wanted == {"aws-sam-cli": locked["aws-sam-cli"]}, "run `make lock`"
    assert "cfn-lint" in locked and "aws-sam-translator" in locked  # what `sam validate --lint` runs
