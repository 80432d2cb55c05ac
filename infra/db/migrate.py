"""Apply versioned SQL migrations, one folder per schema.

    python infra/db/migrate.py [schema ...]        (default: every folder here)

Files are ``infra/db/<schema>/NNNN_description.sql``, applied in order, each in
its own transaction, recorded in ``<schema>.schema_migrations``. A transaction-scoped
advisory lock makes concurrent runs safe, connected directly (``make up``) or through
PgBouncer (the tests' fixtures); an already-applied file whose content changed is an
error, not a silent skip.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import psycopg2
from photostack.config import local_database_url

HERE = Path(__file__).resolve().parent
DEFAULT_DSN = local_database_url(5432)
LOCK_ID = 0x70686F74  # "phot"


def schemas() -> list[str]:
    return sorted(p.name for p in HERE.iterdir() if p.is_dir() and any(p.glob("*.sql")))


def migrate(dsn: str, names: list[str]) -> list[str]:
    applied: list[str] = []
    conn = psycopg2.connect(dsn)
    try:
        for schema in names:
            with conn, conn.cursor() as cur:
                _lock(cur)
                cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                cur.execute(
                    f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations ('
                    " version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())"
                )
                cur.execute(f'SELECT version, checksum FROM "{schema}".schema_migrations')
                done = dict(cur.fetchall())
            for path in sorted((HERE / schema).glob("*.sql")):
                version = int(path.name.split("_", 1)[0])
                sql = path.read_text()
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                if version in done:
                    if done[version] != checksum:
                        raise SystemExit(f"{schema}/{path.name} changed after it was applied")
                    continue
                with conn, conn.cursor() as cur:
                    _lock(cur)
                    # Another run may have applied it while this one waited for the lock.
                    cur.execute(f'SELECT checksum FROM "{schema}".schema_migrations WHERE version = %s',
                                (version,))
                    row = cur.fetchone()
                    if row is not None:
                        if row[0] != checksum:
                            raise SystemExit(f"{schema}/{path.name} changed after it was applied")
                        continue
                    cur.execute(f'SET LOCAL search_path = "{schema}", public')
                    cur.execute(sql)
                    cur.execute(
                        f'INSERT INTO "{schema}".schema_migrations (version, name, checksum)'
                        " VALUES (%s, %s, %s)", (version, path.name, checksum),
                    )
                applied.append(f"{schema}/{path.name}")
    finally:
        conn.close()
    return applied


def _lock(cur: Any) -> None:
    """Serialise concurrent runs, one transaction at a time: a transaction-scoped lock also
    holds through a transaction pooler (PgBouncer, RDS Proxy), where consecutive transactions
    may run on different server connections and a session lock could never be released."""
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))


def main() -> None:
    dsn = os.environ.get("PHOTOSTACK_DATABASE_URL", DEFAULT_DSN)
    names = sys.argv[1:] or schemas()
    applied = migrate(dsn, names)
    print(f"migrations: {len(applied)} applied" + ("".join(f"\n  {a}" for a in applied)))


if __name__ == "__main__":
    main()
