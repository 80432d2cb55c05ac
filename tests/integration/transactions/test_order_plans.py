"""The order functions run on generic plans (transactions migration 0006).

Without the functions' own ``plan_cache_mode``, PL/pgSQL re-planned about ten of an order's
statements at every order (their custom plans looked cheaper for a one-photo order's arrays):
measured, a third of PostgreSQL's CPU per order. A later ``CREATE OR REPLACE FUNCTION`` that
leaves the SET out would silently bring that back; this test notices.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from photostack.db import Database

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("function", ["place_order_checked"])
def test_the_order_function_forces_generic_plans(tx_db: Database, function: str) -> None:
    with tx_db.cursor() as cur:
        cur.execute("SELECT p.proconfig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                    " WHERE n.nspname = 'transactions' AND p.proname = %s", (function,))
        rows = cur.fetchall()
    assert len(rows) == 1
    assert "plan_cache_mode=force_generic_plan" in (rows[0]["proconfig"] or [])


def test_orders_on_generic_plans_still_keep_every_rule(world: Any, violations: Any) -> None:
    buyer, ph = world.user("c"), world.user("p")
    world.fund(buyer, 1000)
    # More orders than the plan cache's five custom plans before it may switch to a generic one.
    for price in range(100, 108):
        world.order(buyer, world.photo(ph, price))
    assert world.balance(buyer) == 1000 - sum(range(100, 108))
    assert not any(violations(world.service.db).values())


def _scans_of(plan: dict[str, Any], relation: str) -> list[dict[str, Any]]:
    found = [plan] if plan.get("Relation Name") == relation else []
    for child in plan.get("Plans", []):
        found += _scans_of(child, relation)
    return found


def test_the_already_owned_check_looks_up_each_photo_not_every_photo_the_customer_owns(
        tx_db: Database) -> None:
    """Migration 0009. The check's generic plan had user_id alone as its index condition and
    filtered on the order's photos: every order read all the entitlements of its customer, so a
    customer's orders got slower with every photo they had bought. Planned here from the
    function's own source, as the function plans it (generic plan): each scan of entitlements
    must find its rows by photo id. The old statement's plan depended on the table's statistics
    (on this database's at the time it passed this check, under the bench's it did not), so
    this guards the new statement, whose lookup is parameterized by each photo of the order,
    against a rewrite that brings the choice back."""
    with tx_db.cursor() as cur:
        cur.execute("SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                    " WHERE n.nspname = 'transactions' AND p.proname = 'place_order_checked'")
        source = cur.fetchone()["prosrc"]
        start = source.rindex("SELECT", 0, source.index("INTO v_owned"))
        statement = source[start:source.index(";", start)]
        statement = (statement.replace("INTO v_owned", "")
                     .replace("p_customer", "$1").replace("p_photo_ids", "$2"))
        # A prepared statement outlives the transaction on PgBouncer's server connection, even when
        # the EXPLAIN fails (no DEALLOCATE runs then): a name of its own never meets another run's.
        name = f"owned_check_{uuid.uuid4().hex}"
        cur.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cur.execute(f"PREPARE {name} (text, text[]) AS {statement}")
        cur.execute(f"EXPLAIN (FORMAT JSON) EXECUTE {name} ('c-plan-test', '{{p-1,p-2}}')")
        plan = cur.fetchone()["QUERY PLAN"][0]["Plan"]
        cur.execute(f"DEALLOCATE {name}")
    scans = _scans_of(plan, "entitlements")
    assert scans, plan
    assert all("photo_id" in scan.get("Index Cond", "") for scan in scans), scans
