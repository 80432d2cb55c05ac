"""GET /users/me reads its user in one round trip to the database (repository.read_user).

Its one query used to run inside BEGIN (with the transaction's settings) and COMMIT: three round
trips through PgBouncer per request on the hottest authenticated route. The connection the
service checks out is watched here: what it executes and whether it commits (the account-status
check before it may read its own table once; that is not the profile read).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from users.services import UsersService

from tests.integration.users.conftest import Api

pytestmark = pytest.mark.integration


class Watched:
    """A pooled connection whose statements and commits are counted."""

    def __init__(self, conn: Any, seen: list[str]) -> None:
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_seen", seen)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._conn, name, value)

    def commit(self) -> None:
        self._seen.append("COMMIT")
        self._conn.commit()

    @contextlib.contextmanager
    def cursor(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        seen = self._seen
        with self._conn.cursor(*args, **kwargs) as real:
            class Cursor:
                def __getattr__(self, name: str) -> Any:
                    return getattr(real, name)

                def execute(self, sql: str, params: Any = None) -> None:
                    seen.append(sql)
                    real.execute(sql, params)

            yield Cursor()


def test_me_is_one_statement_and_no_commit(api: Api, service: UsersService,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    user = api.register()
    token = api.login(user["email"])["access_token"]
    seen: list[str] = []
    checked_out = service._db._checked_out

    @contextlib.contextmanager
    def watched() -> Iterator[Any]:
        with checked_out() as conn:
            yield Watched(conn, seen)

    monkeypatch.setattr(service._db, "_checked_out", watched)
    me = api.get("/users/me", token=token)
    assert me.status == 200 and me.body["id"] == user["id"]
    reads = [i for i, sql in enumerate(seen) if "FROM users WHERE id" in sql]
    assert len(reads) == 1, seen
    # The transaction's settings and the query as one message, and nothing after it (no COMMIT).
    assert "set_config" in seen[reads[0]] and seen[reads[0]:] == [seen[reads[0]]], seen
