"""Operator commands run against the database, e.g. to create the first admin.

    python -m users.admin promote EMAIL [--role admin|photographer|customer]

Run from ``functions/users`` with the layer on the path (``make`` does this:
``PYTHONPATH=layers/core/python:functions/users .venv/bin/python -m users.admin promote you@example.com``).
There is deliberately no HTTP route or environment variable that creates an admin:
whoever can run this already holds the database credentials.
"""

from __future__ import annotations

import argparse
import sys

from photostack.contract import ADMIN

from users import bootstrap, domain
from users.domain import UsersError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m users.admin")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("promote", help="give an existing account a role (admin by default)")
    p.add_argument("email")
    p.add_argument("--role", choices=domain.ROLES, default=ADMIN)
    args = parser.parse_args(argv)
    try:
        user = bootstrap.service().grant_role(args.email, args.role)
    except UsersError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{user.email} ({user.id}) is now {user.role}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
