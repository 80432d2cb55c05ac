"""The lock files that setup installs agree with the requirement files people edit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def pins(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("-r "):
            found |= pins(path.parent / line[3:].strip())
        elif match := PIN.match(line):
            found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


@pytest.mark.parametrize("requirements,lock", [
    ("requirements/dev.txt", "requirements/dev.lock"),
    ("infra/localstack/requirements.txt", "infra/localstack/requirements.lock"),
])
def test_every_pinned_requirement_is_locked_at_its_version(requirements: str, lock: str) -> None:
    wanted, locked = pins(ROOT / requirements), pins(ROOT / lock)
    assert wanted, "no pins found"
    drift = {name: (version, locked.get(name)) for name, version in wanted.items()
             if locked.get(name) != version}
    assert not drift, f"run `make lock`: {drift}"
