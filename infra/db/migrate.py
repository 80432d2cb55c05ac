"""Apply versioned SQL migrations, one folder per schema.

    python infra/db/migrate.py [schema ...]        (default: every folder here)

Files are ``infra/db/<schema>/NNNN_description.sql``, applied in order, each in
its own transaction, recorded in ``<schema>.schema_migrations``. An advisory lock
makes concurrent runs safe; an already-applied file whose content changed is an
error, not a silent skip.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import psycopg2

HERE = Path(__file__).resolve().parent
DEFAULT_DSN = "postgresql://photostack:photostack@127.0.0.1:5432/photostack"
LOCK_ID = 0x70686F74  # "phot"


def schemas() -> list[str]:
    return sorted(p.name for p in HERE.iterdir() if p.is_dir() and any(p.glob("*.sql")))


def migrate(dsn: str, names: list[str]) -> list[str]:
    applied: list[str] = []
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
        for schema in names:
            with conn, conn.cursor() as cur:
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
                    cur.execute(f'SET LOCAL search_path = "{schema}", public')
                    cur.execute(sql)
                    cur.execute(
                        f'INSERT INTO "{schema}".schema_migrations (version, name, checksum)'
                        " VALUES (%s, %s, %s)", (version, path.name, checksum),
                    )
                applied.append(f"{schema}/{path.name}")
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
    finally:
        conn.close()
    return applied


def main() -> None:
    dsn = os.environ.get("PHOTOSTACK_DATABASE_URL", DEFAULT_DSN)
    names = sys.argv[1:] or schemas()
    applied = migrate(dsn, names)
    print(f"migrations: {len(applied)} applied" + ("".join(f"\n  {a}" for a in applied)))


if __name__ == "__main__":
    main()
