"""Drive the `photostack` CLI in-process (Typer's CliRunner) against the deployed stack.

Each `Cli` is one person: its own config folder (credentials) and state folder (upload
journals), and the API URLs of the stack the tests deploy.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from photostack_cli.main import app
from typer.testing import CliRunner, Result

PASSWORD = "a long unusual phrase"


class Cli:
    def __init__(self, home: Path, stack: dict[str, str]) -> None:
        self.home = home
        self.env = {
            "PHOTOSTACK_CONFIG_DIR": str(home / "config"),
            "PHOTOSTACK_STATE_DIR": str(home / "state"),
            "PHOTOSTACK_USERS_API_URL": stack["UsersApiUrl"],
            "PHOTOSTACK_PHOTOS_API_URL": stack["PhotosApiUrl"],
            "PHOTOSTACK_TRANSACTIONS_API_URL": stack["TransactionsApiUrl"],
        }
        self.email = ""

    def run(self, *args: str, input: str | None = None,
            env: Mapping[str, str | None] | None = None) -> Result:
        return CliRunner().invoke(app, list(args), input=input, env={**self.env, **(env or {})})

    def json(self, *args: str, exit_code: int = 0) -> Any:
        result = self.run(*args, "--json")
        assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr)
        return json.loads(result.stdout)

    def register(self, role: str) -> dict[str, Any]:
        self.email = f"cli-{role}-{uuid.uuid4().hex[:10]}@example.com"
        return dict(self.json("register", "--email", self.email, "--password", PASSWORD,
                              "--name", f"CLI {role}", "--role", role))

    @property
    def credentials(self) -> dict[str, Any]:
        return dict(json.loads((self.home / "config" / "credentials.json").read_text()))


@pytest.fixture
def make_cli(tmp_path: Path, stack: dict[str, str]) -> Callable[[str], Cli]:
    def make(name: str) -> Cli:
        return Cli(tmp_path / name, stack)

    return make
