"""SQL of the users schema. Every method runs on the caller's connection (one transaction)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import psycopg2.errors
from photostack.db import Database, dict_cursor
from psycopg2.extensions import connection as Connection

from users.domain import EmailTaken, RefreshRecord, User

_USER_COLUMNS = ("id::text AS id, email, display_name, role, password_hash, disabled, token_version,"
                 " created_at")


def _user(row: dict[str, Any] | None) -> User | None:
    return User(**row) if row else None


def read_user(db: Database, user_id: str) -> User | None:
    """One user, read as a transaction of its own in one round trip (``Database.one_message``):
    GET /users/me's only query, where BEGIN with the settings and COMMIT around it were two more
    round trips through PgBouncer per request."""
    rows = db.one_message(f"SELECT {_USER_COLUMNS} FROM users WHERE id = %s", (user_id,))
    return _user(rows[0] if rows else None)


class UsersRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _one(self, sql: str, params: tuple[Any, ...]) -> dict[str, Any] | None:
        with dict_cursor(self._conn) as cur:
            cur.execute(sql, params)
            row = cur.fetchone()
            return dict(row) if row else None

    def _exec(self, sql: str, params: tuple[Any, ...]) -> int:
        with self._conn.cursor() as cur:
            cur.execute(sql, params)
            return int(cur.rowcount)

    # --- users ---

    def add_user(self, *, email: str, display_name: str, role: str, password_hash: str) -> User:
        try:
            with self._conn.cursor() as cur:
                # A savepoint keeps the caller's transaction usable after a duplicate email.
                cur.execute("SAVEPOINT add_user")
                row = self._one(
                    f"INSERT INTO users (id, email, display_name, role, password_hash)"
                    f" VALUES (%s, %s, %s, %s, %s) RETURNING {_USER_COLUMNS}",
                    (str(uuid.uuid4()), email, display_name, role, password_hash))
                cur.execute("RELEASE SAVEPOINT add_user")
        except psycopg2.errors.UniqueViolation as exc:
            with self._conn.cursor() as cur:
                cur.execute("ROLLBACK TO SAVEPOINT add_user")
            raise EmailTaken("an account with this email already exists", field="email") from exc
        user = _user(row)
        assert user is not None
        return user

    def user_by_email(self, email: str) -> User | None:
        return _user(self._one(f"SELECT {_USER_COLUMNS} FROM users WHERE lower(email) = lower(%s)", (email,)))

    def user_by_id(self, user_id: str, *, for_update: bool = False) -> User | None:
        lock = " FOR UPDATE" if for_update else ""
        return _user(self._one(f"SELECT {_USER_COLUMNS} FROM users WHERE id = %s{lock}", (user_id,)))

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self._exec("UPDATE users SET password_hash = %s, updated_at = now() WHERE id = %s",
                   (password_hash, user_id))

    def set_display_name(self, user_id: str, display_name: str) -> None:
        self._exec("UPDATE users SET display_name = %s, updated_at = now() WHERE id = %s",
                   (display_name, user_id))

    def set_role_and_status(self, user_id: str, *, role: str, disabled: bool) -> User:
        """Change role/disabled; raises token_version so tokens issued before stop working."""
        row = self._one(
            "UPDATE users SET role = %s, disabled = %s, token_version = token_version + 1,"
            f" updated_at = now() WHERE id = %s RETURNING {_USER_COLUMNS}", (role, disabled, user_id))
        user = _user(row)
        assert user is not None
        return user

    # --- refresh tokens ---

    def bump_token_version(self, user_id: str) -> User:
        """Raise token_version: every access token issued before stops being accepted."""
        user = _user(self._one(
            "UPDATE users SET token_version = token_version + 1, updated_at = now()"
            f" WHERE id = %s RETURNING {_USER_COLUMNS}", (user_id,)))
        assert user is not None
        return user

    def start_family(self, user_id: str, started_at: datetime) -> str:
        family_id = str(uuid.uuid4())
        self._exec("INSERT INTO refresh_families (id, user_id, created_at) VALUES (%s, %s, %s)",
                   (family_id, user_id, started_at))
        return family_id

    def add_refresh_token(self, family_id: str, token_hash: bytes, expires_at: datetime) -> None:
        self._exec("INSERT INTO refresh_tokens (token_hash, family_id, expires_at) VALUES (%s, %s, %s)",
                   (token_hash, family_id, expires_at))

    def refresh_record_for_update(self, token_hash: bytes) -> RefreshRecord | None:
        """The token, its family and its user, with the family locked so that two
        concurrent refreshes of one token cannot both rotate it."""
        row = self._one(
            "SELECT f.id::text AS family_id, f.user_id::text AS user_id,"
            " f.created_at AS family_started_at, t.expires_at,"
            " t.rotated_at IS NOT NULL AS rotated, f.revoked_at IS NOT NULL AS family_revoked,"
            " u.disabled AS user_disabled"
            " FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id"
            " JOIN users u ON u.id = f.user_id"
            " WHERE t.token_hash = %s FOR UPDATE OF t, f", (token_hash,))
        return RefreshRecord(**row) if row else None

    def mark_rotated(self, token_hash: bytes) -> None:
        self._exec("UPDATE refresh_tokens SET rotated_at = now() WHERE token_hash = %s", (token_hash,))

    def revoke_family(self, family_id: str, reason: str) -> None:
        self._exec("UPDATE refresh_families SET revoked_at = now(), revoked_reason = %s"
                   " WHERE id = %s AND revoked_at IS NULL", (reason, family_id))

    def revoke_user_families(self, user_id: str, reason: str, *, except_family: str | None = None) -> int:
        return self._exec(
            "UPDATE refresh_families SET revoked_at = now(), revoked_reason = %s"
            " WHERE user_id = %s AND revoked_at IS NULL AND id IS DISTINCT FROM %s",
            (reason, user_id, except_family))
