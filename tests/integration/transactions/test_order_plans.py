"""The order functions run on generic plans (transactions migration 0006).

Without the functions' own ``plan_cache_mode``, PL/pgSQL re-planned about ten of an order's
statements at every order (their custom plans looked cheaper for a one-photo order's arrays):
measured, a third of PostgreSQL's CPU per order. A later ``CREATE OR REPLACE FUNCTION`` that
leaves the SET out would silently bring that back; this test notices.
"""

from __future__ import annotations

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
