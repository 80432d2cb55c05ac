"""Use cases of the users domain. Adapters (database, hasher, throttle, account status)
are passed in by :mod:`users.bootstrap`, or by tests pointing at the real services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg2
import redis
from photostack.account_status import AccountState, AccountStatus
from photostack.db import Database
from photostack.tokens import Principal, issue_access_token

from users import domain
from users.domain import (
    AccountDisabled,
    AdminChange,
    Credentials,
    DependencyUnavailable,
    InvalidCredentials,
    InvalidRefreshToken,
    NotAllowed,
    ProfileChange,
    RefreshTokenReused,
    Registration,
    Rotation,
    SessionExpired,
    User,
    UserNotFound,
)
from users.passwords import Passwords
from users.repository import UsersRepository, read_user
from users.throttle import Throttle


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    user: User

    def view(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "token_type": "Bearer", "expires_in": self.expires_in,
                "refresh_token": self.refresh_token, "refresh_expires_in": self.refresh_expires_in,
                "user": self.user.private_view()}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class UsersService:
    def __init__(self, db: Database, passwords: Passwords, throttle: Throttle, status: AccountStatus,
                 *, refresh_ttl_s: int, refresh_session_max_s: int,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self._db = db
        self._passwords = passwords
        self._throttle = throttle
        self._status = status
        self._refresh_ttl = timedelta(seconds=refresh_ttl_s)
        self._max_session = timedelta(seconds=refresh_session_max_s)
        self._clock = clock

    def health(self) -> list[str]:
        """Raise DependencyUnavailable unless PostgreSQL answers; answer what is degraded
        (Redis is a cache and a throttle store: without it the service still works)."""
        try:
            with self._db.cursor() as cur:
                cur.execute("SELECT 1 FROM users LIMIT 1")
        except psycopg2.Error as exc:
            raise DependencyUnavailable(f"dependency unavailable: {type(exc).__name__}") from exc
        try:
            self._status.ping()
        except redis.RedisError:
            return ["redis"]
        return []

    # --- accounts ---

    def register(self, cmd: Registration, client_ip: str) -> User:
        self._throttle.registration_attempt(client_ip)
        # Hash before opening the transaction: argon2 takes tens of milliseconds.
        password_hash = self._passwords.hash(cmd.password)
        with self._db.connection() as conn:
            return UsersRepository(conn).add_user(email=cmd.email, display_name=cmd.display_name,
                                                  role=cmd.role, password_hash=password_hash)

    def me(self, principal: Principal) -> User:
        return self._active(read_user(self._db, principal.user_id))

    def public_profile(self, user_id: str) -> User:
        with self._db.connection() as conn:
            user = UsersRepository(conn).user_by_id(domain.parse_user_id(user_id))
        if user is None:
            raise UserNotFound("no such user")
        return user

    def update_me(self, principal: Principal, cmd: ProfileChange, client_ip: str) -> User:
        if cmd.new_password is not None:
            current = self.me(principal)
            # Same counters as sign-in: a stolen access token must not become a password oracle.
            key = domain.email_key(current.email)
            self._throttle.login_attempt(key, client_ip)
            if not self._passwords.verify(current.password_hash, cmd.current_password or ""):
                raise InvalidCredentials("current_password is wrong", field="current_password")
            self._throttle.login_succeeded(key, client_ip)
        new_hash = self._passwords.hash(cmd.new_password) if cmd.new_password is not None else None
        with self._db.connection() as conn:
            repo = UsersRepository(conn)
            user = self._active(repo.user_by_id(principal.user_id, for_update=True))
            if cmd.display_name is not None:
                repo.set_display_name(user.id, cmd.display_name)
            if new_hash is not None:
                repo.set_password_hash(user.id, new_hash)
                # A changed password ends every session, this one included (a thief may hold
                # its tokens): every refresh family is revoked and every access token issued
                # before stops working; the account holder signs in again with the new password.
                repo.revoke_user_families(user.id, "password_changed")
                repo.bump_token_version(user.id)
            updated = repo.user_by_id(user.id)
        assert updated is not None
        if new_hash is not None:
            self.publish_status(updated)
        return updated

    def admin_change(self, admin: Principal, user_id: str, cmd: AdminChange) -> User:
        target_id = domain.parse_user_id(user_id)
        if target_id == admin.user_id:
            # An admin demoting or disabling themself could leave no admin at all.
            raise NotAllowed("admins cannot change their own role or status")
        with self._db.connection() as conn:
            repo = UsersRepository(conn)
            user = repo.user_by_id(target_id, for_update=True)
            if user is None:
                raise UserNotFound("no such user")
            role = cmd.role if cmd.role is not None else user.role
            disabled = cmd.disabled if cmd.disabled is not None else user.disabled
            if (role, disabled) != (user.role, user.disabled):
                user = repo.set_role_and_status(user.id, role=role, disabled=disabled)
                if disabled:
                    repo.revoke_user_families(user.id, "account_disabled")
        # Published even when nothing changed, so that retrying after a Redis failure repairs it.
        self.publish_status(user)
        return user

    def grant_role(self, email: str, role: str) -> User:
        """The operator's path (``python -m users.admin``), with no caller to check."""
        with self._db.connection() as conn:
            repo = UsersRepository(conn)
            found = repo.user_by_email(email)
            if found is None:
                raise UserNotFound(f"no account with the email {email!r}; register it first")
            user = repo.set_role_and_status(found.id, role=role, disabled=found.disabled)
        self.publish_status(user)
        return user

    def publish_status(self, user: User) -> None:
        """Put the account's new state (already committed to PostgreSQL) in the Redis cache."""
        self._status.publish(user.id, AccountState(disabled=user.disabled, token_version=user.token_version))

    # --- sessions ---

    def login(self, cmd: Credentials, client_ip: str) -> TokenPair:
        key = domain.email_key(cmd.email)
        # Counted before the password is checked, in the same step as the decision, so
        # parallel guesses cannot all pass a check that the others have not counted yet.
        self._throttle.login_attempt(key, client_ip)
        with self._db.connection() as conn:
            user = UsersRepository(conn).user_by_email(cmd.email)
        if user is None:
            self._passwords.verify_nobody(cmd.password)
            ok = False
        else:
            ok = self._passwords.verify(user.password_hash, cmd.password)
        if not ok or user is None:
            raise InvalidCredentials("email or password is wrong")
        self._throttle.login_succeeded(key, client_ip)
        if user.disabled:
            raise AccountDisabled("this account is disabled")
        needs_rehash = self._passwords.needs_rehash(user.password_hash)
        new_hash = self._passwords.hash(cmd.password) if needs_rehash else None
        with self._db.connection() as conn:
            repo = UsersRepository(conn)
            if new_hash is not None:
                repo.set_password_hash(user.id, new_hash)
            now = self._clock()
            family_id = repo.start_family(user.id, now)
            return self._issue(repo, user, family_id, now)

    def refresh(self, token: str) -> TokenPair:
        token_hash = domain.hash_refresh_token(token)
        with self._db.connection() as conn:
            repo = UsersRepository(conn)
            record = repo.refresh_record_for_update(token_hash)
            if record is None:
                raise InvalidRefreshToken("refresh token is invalid")
            decision = domain.decide_rotation(record, self._clock(), self._max_session)
            if decision is Rotation.ROTATE:
                user = self._active(repo.user_by_id(record.user_id))
                repo.mark_rotated(token_hash)
                return self._issue(repo, user, record.family_id, record.family_started_at)
            if decision is Rotation.SESSION_EXPIRED:
                repo.revoke_family(record.family_id, "session_expired")
            if decision is Rotation.REUSE_DETECTED:
                repo.revoke_family(record.family_id, "reuse_detected")
        # Outside the transaction, so that the family's revocation above is committed.
        if decision is Rotation.REUSE_DETECTED:
            raise RefreshTokenReused("refresh token was already used; every session of this login is revoked")
        if decision is Rotation.ACCOUNT_DISABLED:
            raise AccountDisabled("this account is disabled")
        if decision is Rotation.SESSION_EXPIRED:
            raise SessionExpired("this sign-in is older than the longest session allowed; sign in again")
        if decision is Rotation.EXPIRED:
            raise InvalidRefreshToken("refresh token expired")
        raise InvalidRefreshToken("refresh token was revoked")

    def logout(self, token: str) -> None:
        """Revoke the token's whole family; an already revoked or rotated token still logs out."""
        with self._db.connection() as conn:
            repo = UsersRepository(conn)
            record = repo.refresh_record_for_update(domain.hash_refresh_token(token))
            if record is None:
                raise InvalidRefreshToken("refresh token is invalid")
            repo.revoke_family(record.family_id, "logout")

    # --- helpers ---

    def _issue(self, repo: UsersRepository, user: User, family_id: str, started_at: datetime) -> TokenPair:
        refresh_token = domain.new_refresh_token()
        now = self._clock()
        expires_at = domain.refresh_expiry(now, self._refresh_ttl, started_at, self._max_session)
        repo.add_refresh_token(family_id, domain.hash_refresh_token(refresh_token), expires_at)
        access_token, expires_in = issue_access_token(user.id, user.role, version=user.token_version)
        return TokenPair(access_token=access_token, expires_in=expires_in, refresh_token=refresh_token,
                         refresh_expires_in=max(0, int((expires_at - now).total_seconds())), user=user)

    @staticmethod
    def _active(user: User | None) -> User:
        if user is None:
            raise InvalidCredentials("this account no longer exists")
        if user.disabled:
            raise AccountDisabled("this account is disabled")
        return user
