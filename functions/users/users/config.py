"""Settings of the users function, read once from environment variables.

Shared settings (database, Redis, JWT keys and lifetimes) come from
``photostack.config``; these are the ones only the users function reads.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from photostack.config import env_int


def _int(name: str, default: int, *, lo: int = 1) -> int:
    return env_int(name, default, minimum=lo)


@dataclass(frozen=True)
class UsersSettings:
    # argon2id cost; OWASP's baseline is m=19 MiB, t=2, p=1. Raising them makes
    # existing hashes rehash at their next login.
    argon2_time_cost: int
    argon2_memory_kib: int
    argon2_parallelism: int
    # Failed logins allowed per window before 429, per account and per client address.
    login_max_failures_per_account: int
    login_max_failures_per_ip: int
    login_window_s: int
    max_body_bytes: int
    # Registrations allowed per window and client address before 429.
    registrations_per_ip: int = 10
    registration_window_s: int = 3600
    # Absolute lifetime of a login: its refresh tokens slide, but never past this.
    refresh_session_max_s: int = 30 * 24 * 3600


def load() -> UsersSettings:
    return UsersSettings(
        argon2_time_cost=_int("PHOTOSTACK_ARGON2_TIME_COST", 2),
        argon2_memory_kib=_int("PHOTOSTACK_ARGON2_MEMORY_KIB", 19 * 1024, lo=8),
        argon2_parallelism=_int("PHOTOSTACK_ARGON2_PARALLELISM", 1),
        login_max_failures_per_account=_int("PHOTOSTACK_LOGIN_MAX_FAILURES_PER_ACCOUNT", 10),
        login_max_failures_per_ip=_int("PHOTOSTACK_LOGIN_MAX_FAILURES_PER_IP", 50),
        login_window_s=_int("PHOTOSTACK_LOGIN_WINDOW_S", 15 * 60),
        max_body_bytes=_int("PHOTOSTACK_USERS_MAX_BODY_BYTES", 8 * 1024, lo=256),
        registrations_per_ip=_int("PHOTOSTACK_REGISTRATIONS_PER_IP", 10),
        registration_window_s=_int("PHOTOSTACK_REGISTRATION_WINDOW_S", 3600),
        refresh_session_max_s=_int("PHOTOSTACK_REFRESH_SESSION_MAX_S", 30 * 24 * 3600),
    )


@functools.cache
def get_users_settings() -> UsersSettings:
    return load()
