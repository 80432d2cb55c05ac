"""Run a check against LocalStack's own code: in its virtualenv (``.state/localstack-venv``, where the
plugin is installed) with this checkout's plugin package first on the path, without a server."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
LS_PYTHON = ROOT / ".state" / "localstack-venv" / "bin" / "python"
EXECUTOR = ROOT / "infra" / "localstack" / "executor"


def in_localstack(script: str) -> Any:
    """The JSON the script printed last."""
    if not LS_PYTHON.exists():
        pytest.fail(f"{LS_PYTHON} is missing: `make setup` (infra/localstack/install.sh) creates it")
    done = subprocess.run([str(LS_PYTHON), "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(EXECUTOR)})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
