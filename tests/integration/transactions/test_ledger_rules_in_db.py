"""The database's own ledger rules, the backstop under the Python code: written around it, they still hold.

Checked per INSERT statement into postings (migration 0004): every entry it touches balances,
and the cached balances move with it; at commit every new entry has postings; balances move
only through postings; a wallet never goes below zero.
"""

from __future__ import annotations

from typing import Any

import psycopg2.errors
import pytest
from photostack.db import Database, dict_cursor
from transactions.ledger import AccountRef

pytestmark = pytest.mark.integration

INSERT = "INSERT INTO postings (entry_id, account_id, currency, amount_minor) VALUES "


def _accounts(world: Any) -> tuple[int, int, str, str]:
    """A funded wallet (1000) and an earnings account: their row ids, the buyer and the photographer."""
    buyer, ph = world.user("c"), world.user("p")
    world.fund(buyer, 1000)
    ids = world.service.accounts.ids([AccountRef.wallet(buyer, "EUR"), AccountRef.earnings(ph, "EUR")],
                                     spread_key="rules")
    return ids[AccountRef.wallet(buyer, "EUR")], ids[AccountRef.earnings(ph, "EUR")], buyer, ph


def _write(db: Database, *statements: list[tuple[int, int]]) -> None:
    """One transaction: a new entry, then each statement inserting (account id, amount) postings."""
    with db.connection() as conn, dict_cursor(conn) as cur:
        cur.execute("INSERT INTO journal_entries (kind, reference) VALUES ('order', 'rules') RETURNING id")
        entry = cur.fetchone()["id"]
        for postings in statements:
            accounts = sorted({a for a, _ in postings})
            cur.execute("SELECT id FROM accounts WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (accounts,))
            cur.execute(INSERT + ", ".join(["(%s, %s, 'EUR', %s)"] * len(postings)),
                        [x for a, amount in postings for x in (entry, a, amount)])


def test_an_unbalanced_insert_is_refused_at_once(world: Any, tx_db: Database) -> None:
    wallet, earnings, buyer, ph = _accounts(world)
    with pytest.raises(psycopg2.errors.CheckViolation, match="does not balance"):
        _write(tx_db, [(wallet, -300), (earnings, 299)])
    assert world.balance(buyer) == 1000 and world.balance(ph, "earnings") == 0


def test_a_balanced_entry_cannot_be_unbalanced_by_a_later_statement(world: Any, tx_db: Database) -> None:
    wallet, earnings, buyer, ph = _accounts(world)
    with pytest.raises(psycopg2.errors.CheckViolation, match="does not balance"):
        _write(tx_db, [(wallet, -300), (earnings, 300)], [(earnings, 50)])
    assert world.balance(buyer) == 1000 and world.balance(ph, "earnings") == 0


def test_a_balanced_statement_moves_the_cached_balances(world: Any, tx_db: Database, violations: Any) -> None:
    wallet, earnings, buyer, ph = _accounts(world)
    # Two postings to one account in one statement: the balance moves by their sum.
    _write(tx_db, [(wallet, -300), (earnings, 100), (earnings, 200)])
    assert world.balance(buyer) == 700 and world.balance(ph, "earnings") == 300
    assert not any(violations(tx_db).values())


def test_an_entry_without_postings_cannot_commit(tx_db: Database) -> None:
    with pytest.raises(psycopg2.errors.CheckViolation, match="has no postings"):
        _write(tx_db)


def test_balances_move_only_through_postings_and_wallets_stay_covered(world: Any, tx_db: Database) -> None:
    wallet, earnings, buyer, ph = _accounts(world)
    with pytest.raises(psycopg2.errors.InsufficientPrivilege), tx_db.cursor() as cur:
        cur.execute("UPDATE accounts SET balance_minor = balance_minor + 1 WHERE id = %s", (wallet,))
    with pytest.raises(psycopg2.errors.CheckViolation, match="wallet_not_overdrawn"):
        _write(tx_db, [(wallet, -1001), (earnings, 1001)])
    assert world.balance(buyer) == 1000 and world.balance(ph, "earnings") == 0
