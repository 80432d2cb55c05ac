"""The connection pool when PostgreSQL is down: each caller gets an error at once, none waits.

Found by the chaos suite: while PostgreSQL restarted, every failed connect kept its pool slot,
so after ``maxconn`` failures each later request of that warm function environment waited on
the slot until the function timed out (API Gateway's bare 502), long after PostgreSQL was back.
"""

from __future__ import annotations

import threading

import psycopg2
import pytest
from photostack.db import Database

pytestmark = pytest.mark.integration

NOTHING_LISTENS = "postgresql://photostack:photostack@127.0.0.1:1/photostack"  # port 1: refused


def test_failed_connects_give_their_slot_back() -> None:
    db = Database(NOTHING_LISTENS, minconn=0, maxconn=2, connect_timeout_s=2)
    outcomes: list[str] = []

    def call() -> None:
        try:
            with db.connection():
                outcomes.append("connected")
        except psycopg2.OperationalError:
            outcomes.append("refused")

    for attempt in range(5):  # more attempts than slots
        caller = threading.Thread(target=call, daemon=True)
        caller.start()
        caller.join(timeout=30)
        assert not caller.is_alive(), f"attempt {attempt + 1} waited for a slot that was never given back"
    assert outcomes == ["refused"] * 5
