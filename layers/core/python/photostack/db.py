"""PostgreSQL access: a bounded connection pool and a unit of work.

A warm Lambda container keeps its pool (usually one connection) across
invocations; the sidecar keeps a larger one. Connections that the server dropped
are discarded and replaced instead of failing the next request.

The functions and the sidecar reach PostgreSQL through a pooler in transaction mode
(PgBouncer locally, RDS Proxy on AWS): consecutive transactions of one client connection
may run on different server connections. So nothing here relies on session state: the
schema search path and the statement timeout are set per transaction
(``set_config(..., true)``, the ``SET LOCAL`` form, which a pooler need not track or pin),
never as startup options (PgBouncer refuses ``options``) or with a session-level ``SET``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extras
import psycopg2.pool
from psycopg2.extensions import connection as Connection


class Database:
    """A thread-safe pool of connections to one database; each transaction runs with the
    pool's search path (``schema``, then ``public``) and statement timeout."""

    def __init__(self, dsn: str, *, schema: str | None = None, minconn: int = 1, maxconn: int = 4,
                 connect_timeout_s: int = 5, statement_timeout_ms: int = 10_000) -> None:
        if schema is not None and not SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"not a schema name: {schema!r}")
        # One statement, the first of every transaction (psycopg2 opens it with BEGIN).
        self._begin = transaction_settings(schema, statement_timeout_ms)
        self._pool = psycopg2.pool.ThreadedConnectionPool(
            minconn, maxconn, dsn, connect_timeout=connect_timeout_s, application_name="photostack",
        )
        # ThreadedConnectionPool raises instead of waiting when it is exhausted;
        # the semaphore turns that into waiting for a free connection.
        self._slots = threading.BoundedSemaphore(maxconn)

    @contextmanager
    def _checked_out(self) -> Iterator[Connection]:
        """A pooled connection, given back afterwards; one found closed (dead) is dropped."""
        self._slots.acquire()
        try:
            conn = self._pool.getconn()
        except BaseException:
            # No connection (the server is down or restarting): give the slot back, or after
            # maxconn such failures every later caller would wait on the semaphore for ever.
            self._slots.release()
            raise
        try:
            yield conn
        finally:
            self._pool.putconn(conn, close=conn.closed != 0)
            self._slots.release()

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection inside a transaction: committed on success, rolled back on error."""
        with self._checked_out() as conn:
            try:
                with conn.cursor() as cur:
                    cur.execute(self._begin)
                yield conn
                conn.commit()
            except BaseException:
                if conn.closed == 0:
                    try:
                        conn.rollback()
                    except psycopg2.Error:
                        conn.close()  # unusable: the pool drops it
                raise

    @contextmanager
    def cursor(self) -> Iterator[psycopg2.extras.RealDictCursor]:
        """A dict cursor inside its own transaction."""
        with self.connection() as conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            yield cur

    def one_message(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        """``sql`` (one statement) as a whole transaction in one round trip: its rows.

        The pool's transaction settings and ``sql`` go to the server as one message, which
        PostgreSQL runs as one implicit transaction, committed when the statement ends (its
        deferred checks included) or rolled back when anything in it fails. For a hot path
        that is one statement anyway: ``connection()`` costs four more round trips (BEGIN, the
        settings, COMMIT), which measured as much CPU as a small transaction's writes.
        """
        with self._checked_out() as conn:
            try:
                conn.autocommit = True
                with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                    cur.execute(self._begin + "; " + sql, params)
                    return [dict(r) for r in cur.fetchall()]
            finally:
                if conn.closed == 0:
                    try:
                        conn.autocommit = False
                    except psycopg2.Error:
                        conn.close()  # unusable: the pool drops it

    def close(self) -> None:
        self._pool.closeall()


SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def transaction_settings(schema: str | None, statement_timeout_ms: int) -> str:
    """The statement that gives one transaction its search path and statement timeout.

    ``set_config(name, value, true)`` lasts until the transaction ends, so a server connection
    that a pooler hands to another client next carries nothing of ours."""
    settings = [f"set_config('statement_timeout', '{int(statement_timeout_ms)}', true)"]
    if schema is not None:
        settings.append(f"set_config('search_path', '{schema}, public', true)")
    return "SELECT " + ", ".join(settings)


def dict_cursor(conn: Connection) -> Any:
    return conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
