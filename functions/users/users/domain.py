"""The users domain without I/O: accounts, input rules, password policy, refresh rotation.

Request bodies are parsed here into small command objects so that every rule
(types, lengths, allowed fields) lives in one place and is unit-tested; the
service layer only ever sees valid commands.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from photostack.contract import ROLES, SELF_SERVICE_ROLES
from photostack.errors import DomainError

PASSWORD_MIN, PASSWORD_MAX = 8, 128
DISPLAY_NAME_MAX = 80
EMAIL_MAX, EMAIL_LOCAL_MAX = 254, 64
REFRESH_TOKEN_BYTES = 32

_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_EMAIL_DOMAIN = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
# token_urlsafe output: base64url without padding.
_REFRESH_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,128}$")


# --- errors -----------------------------------------------------------------------

class UsersError(DomainError):
    """A rule of the domain was broken; ``code`` is the stable machine-readable reason."""

    code = "users_error"

    def __init__(self, message: str, *, field: str | None = None, retry_after_s: int | None = None) -> None:
        super().__init__(message, details={"field": field} if field else None, retry_after_s=retry_after_s)
        self.field = field


class InvalidInput(UsersError):
    code = "validation_error"


class WeakPassword(InvalidInput):
    code = "weak_password"


class EmailTaken(UsersError):
    code = "email_taken"


class InvalidCredentials(UsersError):
    code = "invalid_credentials"


class AccountDisabled(UsersError):
    code = "account_disabled"


class InvalidRefreshToken(UsersError):
    code = "invalid_refresh_token"


class RefreshTokenReused(InvalidRefreshToken):
    code = "refresh_token_reused"


class UserNotFound(UsersError):
    code = "not_found"


class NotAllowed(UsersError):
    code = "not_allowed"


class SessionExpired(InvalidRefreshToken):
    """The login is older than the absolute session lifetime: sign in again."""

    code = "session_expired"


class Throttled(UsersError):
    """Too many attempts in the current window; ``retry_after_s`` until it ends."""

    message_text = "too many attempts; try again later"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(self.message_text, retry_after_s=max(1, retry_after_s))


class LoginThrottled(Throttled):
    code = "too_many_attempts"
    message_text = "too many failed sign-in attempts; try again later"


class RegistrationThrottled(Throttled):
    code = "too_many_registrations"
    message_text = "too many registrations from this address; try again later"


class DependencyUnavailable(UsersError):
    code = "service_unavailable"


# --- accounts ---------------------------------------------------------------------

@dataclass(frozen=True)
class User:
    id: str
    email: str
    display_name: str
    role: str
    password_hash: str
    disabled: bool
    token_version: int
    created_at: datetime

    def private_view(self) -> dict[str, Any]:
        """What the account holder (or an admin) sees."""
        return {"id": self.id, "email": self.email, "display_name": self.display_name,
                "role": self.role, "disabled": self.disabled, "created_at": self.created_at.isoformat()}

    def public_view(self) -> dict[str, Any]:
        """What anyone sees: never the email."""
        return {"id": self.id, "display_name": self.display_name, "role": self.role}


@dataclass(frozen=True)
class Registration:
    email: str
    password: str
    display_name: str
    role: str


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str


@dataclass(frozen=True)
class ProfileChange:
    display_name: str | None
    new_password: str | None
    current_password: str | None


@dataclass(frozen=True)
class AdminChange:
    role: str | None
    disabled: bool | None


# --- parsing ----------------------------------------------------------------------

def _only_fields(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", field=unknown[0])


def _string(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidInput(f"{name} is required", field=name)
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string", field=name)
    return value


def normalize_email(value: str) -> str:
    """The email as stored: trimmed; the comparison key is its lower case."""
    email = value.strip()
    if len(email) > EMAIL_MAX or email.count("@") != 1:
        raise InvalidInput("email is not a valid address", field="email")
    local, domain = email.split("@")
    if len(local) > EMAIL_LOCAL_MAX or not _EMAIL_LOCAL.match(local) or not _EMAIL_DOMAIN.match(domain):
        raise InvalidInput("email is not a valid address", field="email")
    return email


def email_key(email: str) -> str:
    return email.strip().lower()


def normalize_display_name(value: str) -> str:
    name = unicodedata.normalize("NFC", value).strip()
    if not 1 <= len(name) <= DISPLAY_NAME_MAX:
        raise InvalidInput(f"display_name must be 1 to {DISPLAY_NAME_MAX} characters", field="display_name")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise InvalidInput("display_name must not contain control characters", field="display_name")
    return name


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("users").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password_policy(password: str, *, email: str | None = None,
                          common: frozenset[str] | None = None, field: str = "password") -> None:
    """Length 8..128 and not a common password; no composition rules (NIST SP 800-63B)."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise WeakPassword(f"{field} must be {PASSWORD_MIN} to {PASSWORD_MAX} characters", field=field)
    folded = password.lower()
    if folded in (common if common is not None else common_passwords()):
        raise WeakPassword(f"{field} is too common; choose another", field=field)
    if email is not None and folded in (email.lower(), email.lower().split("@")[0]):
        raise WeakPassword(f"{field} must not be your email address", field=field)


def parse_registration(body: dict[str, Any], *, common: frozenset[str] | None = None) -> Registration:
    _only_fields(body, {"email", "password", "display_name", "role"})
    email = normalize_email(_string(body, "email") or "")
    password = _string(body, "password") or ""
    display_name = normalize_display_name(_string(body, "display_name") or "")
    role = _string(body, "role")
    if role not in SELF_SERVICE_ROLES:
        raise InvalidInput("role must be one of: " + ", ".join(SELF_SERVICE_ROLES), field="role")
    check_password_policy(password, email=email, common=common)
    return Registration(email=email, password=password, display_name=display_name, role=role)


def parse_credentials(body: dict[str, Any]) -> Credentials:
    """Only shape checks: a login must not reveal which emails or passwords are valid."""
    _only_fields(body, {"email", "password"})
    email = _string(body, "email") or ""
    password = _string(body, "password") or ""
    # A control character (a NUL: PostgreSQL refuses it, a 500) is in no registered address.
    controls = any(unicodedata.category(c).startswith("C") for c in email.strip())
    if not email or len(email) > EMAIL_MAX or controls:
        raise InvalidInput("email is not a valid address", field="email")
    if not password or len(password) > PASSWORD_MAX:
        raise InvalidInput(f"password must be at most {PASSWORD_MAX} characters", field="password")
    return Credentials(email=email.strip(), password=password)


def parse_profile_change(body: dict[str, Any], *, common: frozenset[str] | None = None,
                         email: str | None = None) -> ProfileChange:
    _only_fields(body, {"display_name", "password", "current_password"})
    if not body:
        raise InvalidInput("nothing to change: send display_name and/or password")
    raw_name = _string(body, "display_name", required=False)
    display_name = normalize_display_name(raw_name) if raw_name is not None else None
    new_password = _string(body, "password", required=False)
    current = _string(body, "current_password", required=False)
    if new_password is not None:
        if not current:
            raise InvalidInput("current_password is required to change the password",
                               field="current_password")
        check_password_policy(new_password, email=email, common=common)
    elif current is not None:
        raise InvalidInput("current_password is only used with password", field="current_password")
    return ProfileChange(display_name=display_name, new_password=new_password, current_password=current)


def parse_admin_change(body: dict[str, Any]) -> AdminChange:
    _only_fields(body, {"role", "disabled"})
    role = body.get("role")
    disabled = body.get("disabled")
    if role is None and disabled is None:
        raise InvalidInput("nothing to change: send role and/or disabled")
    if role is not None and role not in ROLES:
        raise InvalidInput("role must be one of: " + ", ".join(ROLES), field="role")
    if disabled is not None and not isinstance(disabled, bool):
        raise InvalidInput("disabled must be true or false", field="disabled")
    return AdminChange(role=role, disabled=disabled)


def parse_user_id(value: str) -> str:
    """A canonical UUID string, or UserNotFound (no user can have a malformed id)."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise UserNotFound("no such user") from exc


# --- refresh tokens ---------------------------------------------------------------

def new_refresh_token() -> str:
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def hash_refresh_token(token: str) -> bytes:
    """SHA-256 is enough here: the token has 256 bits of entropy, nothing to brute-force."""
    return hashlib.sha256(token.encode("ascii")).digest()


def parse_refresh_token(body: dict[str, Any]) -> str:
    _only_fields(body, {"refresh_token"})
    token = _string(body, "refresh_token") or ""
    if not _REFRESH_TOKEN.match(token):
        raise InvalidRefreshToken("refresh token is invalid", field="refresh_token")
    return token


@dataclass(frozen=True)
class RefreshRecord:
    """A stored refresh token with what decides its fate."""

    family_id: str
    user_id: str
    family_started_at: datetime  # the login; the absolute session lifetime counts from it
    expires_at: datetime
    rotated: bool
    family_revoked: bool
    user_disabled: bool


class Rotation(enum.Enum):
    ROTATE = "rotate"
    REUSE_DETECTED = "reuse_detected"  # revoke the whole family: the token was stolen or replayed
    FAMILY_REVOKED = "family_revoked"
    EXPIRED = "expired"
    SESSION_EXPIRED = "session_expired"  # past the absolute lifetime of the login
    ACCOUNT_DISABLED = "account_disabled"


def decide_rotation(record: RefreshRecord, now: datetime, max_session: timedelta) -> Rotation:
    # Order matters: a replayed token means theft even after it expired, so reuse is
    # checked before expiry; a revoked family has nothing left to revoke.
    if record.family_revoked:
        return Rotation.FAMILY_REVOKED
    if record.rotated:
        return Rotation.REUSE_DETECTED
    if record.user_disabled:
        return Rotation.ACCOUNT_DISABLED
    if session_ends_at(record.family_started_at, max_session) <= now:
        return Rotation.SESSION_EXPIRED
    if record.expires_at <= now:
        return Rotation.EXPIRED
    return Rotation.ROTATE


def session_ends_at(started_at: datetime, max_session: timedelta) -> datetime:
    """A login's refresh tokens slide with every use, but never past this."""
    return started_at + max_session


def refresh_expiry(now: datetime, sliding: timedelta, started_at: datetime,
                   max_session: timedelta) -> datetime:
    """When a refresh token issued ``now`` expires: the sliding lifetime, capped by the session's end."""
    return min(now + sliding, session_ends_at(started_at, max_session))
