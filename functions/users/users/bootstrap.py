"""Composition root: builds the users service once per warm container.

The service (with its database pool and Redis client) is kept in one named,
resettable :class:`WarmSlot`; tests call :func:`reset` to install their own.
"""

from __future__ import annotations

from photostack.account_status import (
    AccountStatus,
    PostgresAccountStates,
    request_redis,
    reset_account_status,
)
from photostack.config import get_settings
from photostack.db import Database
from photostack.warm import WarmSlot

from users.config import UsersSettings, get_users_settings
from users.passwords import Passwords
from users.services import UsersService
from users.throttle import Throttle, resilient_counters


def build(users_settings: UsersSettings | None = None) -> UsersService:
    settings = get_settings()
    us = users_settings or get_users_settings()
    # One connection is all a Lambda container uses: it serves one request at a time.
    db = Database(settings.database_url, schema="users", minconn=1, maxconn=2)
    client = request_redis(settings.redis_url)
    # Misses read PostgreSQL through this function's own pool (no second connection).
    status = AccountStatus(client, PostgresAccountStates(db))
    # The token check in photostack.http reads through the same instance, so a change
    # this container publishes is seen by its own next request at once.
    reset_account_status(status)
    return UsersService(
        db,
        Passwords(time_cost=us.argon2_time_cost, memory_kib=us.argon2_memory_kib,
                  parallelism=us.argon2_parallelism),
        Throttle(resilient_counters(client), max_login_per_account=us.login_max_failures_per_account,
                 max_login_per_ip=us.login_max_failures_per_ip, login_window_s=us.login_window_s,
                 max_registrations_per_ip=us.registrations_per_ip,
                 registration_window_s=us.registration_window_s),
        status,
        refresh_ttl_s=settings.refresh_token_ttl_s,
        refresh_session_max_s=us.refresh_session_max_s,
    )


_slot: WarmSlot[UsersService] = WarmSlot("users service", build)


def service() -> UsersService:
    return _slot.get()


def reset(installed: UsersService | None = None) -> None:
    """Install a service (tests), or forget the current one so the next request builds it."""
    _slot.install(installed)
