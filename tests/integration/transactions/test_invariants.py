"""A seeded randomized run of top-ups, orders and refunds from parallel clients.

Each worker thread owns its customers, so it can predict every outcome from its
own model (balances, what each customer owns) while all workers share the
photographers, the platform accounts and the provider clearing account. After
the run the ledger must satisfy every invariant and match the models.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import pytest
from transactions.domain import OrderRequest, TopupRequest
from transactions.errors import InsufficientFunds, NotPurchasable, StateConflict, TransactionsError
from transactions.money import split_fee

pytestmark = pytest.mark.integration

SEED = 20261125
WORKERS = 4
OPS_PER_WORKER = 500


def test_randomized_run_keeps_every_invariant(world: Any, violations: Any) -> None:
    photographers = [world.user("p") for _ in range(6)]
    photos: dict[str, tuple[str, int, str]] = {}
    master = random.Random(SEED)
    for i in range(150):
        currency = "EUR" if i % 5 else "USD"
        owner, price = master.choice(photographers), master.randint(1, 3000)
        photos[world.photo(owner, price, currency)] = (owner, price, currency)
    photo_ids = sorted(photos)
    by_currency = {c: [p for p in photo_ids if photos[p][2] == c] for c in ("EUR", "USD")}
    tally: Counter[str] = Counter()
    tally_lock = threading.Lock()
    failures: list[BaseException] = []
    earned: Counter[tuple[str, str]] = Counter()  # (photographer, currency) -> net, from the models

    def worker(n: int) -> None:
        rng = random.Random(SEED + n)
        customers = [world.user(f"c{n}") for _ in range(4)]
        wallet: Counter[tuple[str, str]] = Counter()
        owned: dict[str, set[str]] = {c: set() for c in customers}
        orders: list[tuple[str, str, list[str], bool]] = []  # customer, order id, photos, refunded
        local: Counter[str] = Counter()
        my_earned: Counter[tuple[str, str]] = Counter()
        for _ in range(OPS_PER_WORKER):
            customer = rng.choice(customers)
            op = rng.choices(["topup", "order", "refund"], weights=[3, 6, 1])[0]
            if op == "topup":
                currency = rng.choice(["EUR", "EUR", "USD"])
                amount = rng.randint(1, 6000)
                payment = world.service.start_topup(customer, world.key(), TopupRequest(amount, currency))
                status = rng.choice(["succeeded"] * 4 + ["failed"])
                world.confirm(payment.body["payment_id"], status)
                if rng.random() < 0.2:  # the provider delivering twice
                    world.confirm(payment.body["payment_id"], status)
                if status == "succeeded":
                    wallet[(customer, currency)] += amount
                local[f"topup_{status}"] += 1
            elif op == "order":
                pool = photo_ids if rng.random() < 0.05 else by_currency[rng.choice(["EUR", "EUR", "USD"])]
                chosen = rng.sample(pool, rng.randint(1, 3))
                currencies = {photos[p][2] for p in chosen}
                total = sum(photos[p][1] for p in chosen)
                currency = next(iter(currencies))
                if len(currencies) > 1:
                    expected: type[TransactionsError] | None = NotPurchasable
                elif owned[customer] & set(chosen):
                    expected = StateConflict
                elif wallet[(customer, currency)] < total:
                    expected = InsufficientFunds
                else:
                    expected = None
                try:
                    body = world.service.place_order(customer, world.key(), OrderRequest(tuple(chosen))).body
                except TransactionsError as exc:
                    assert expected is not None and isinstance(exc, expected), (exc, expected)
                    local[f"order_refused_{exc.code}"] += 1
                    continue
                assert expected is None, expected
                wallet[(customer, currency)] -= total
                owned[customer] |= set(chosen)
                for p in chosen:
                    my_earned[(photos[p][0], currency)] += split_fee(photos[p][1], 1500)[1]
                orders.append((customer, body["order_id"], chosen, False))
                local["order_paid"] += 1
            elif orders:
                i = rng.randrange(len(orders))
                cust, order_id, chosen, refunded = orders[i]
                result = world.service.refund(order_id)
                assert result.replayed == refunded
                if not refunded:
                    currency = photos[chosen[0]][2]
                    wallet[(cust, currency)] += sum(photos[p][1] for p in chosen)
                    owned[cust] -= set(chosen)
                    for p in chosen:
                        my_earned[(photos[p][0], currency)] -= split_fee(photos[p][1], 1500)[1]
                    orders[i] = (cust, order_id, chosen, True)
                local["refund_replayed" if refunded else "refund"] += 1
            else:
                local["refund_skipped"] += 1
        for (cust, currency), amount in wallet.items():
            assert world.balance(cust, "wallet", currency) == amount
        with tally_lock:
            tally.update(local)
            earned.update(my_earned)

    def guarded(n: int) -> None:
        try:
            worker(n)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]

    found = violations(world.service.db)
    assert found == {k: [] for k in found}
    for (ph, currency), net in earned.items():
        assert world.balance(ph, "earnings", currency) == net
    assert sum(tally.values()) == WORKERS * OPS_PER_WORKER
    assert min(tally["order_paid"], tally["refund"], tally["topup_succeeded"]) > 100
    print("\nrandomized run:", dict(sorted(tally.items())), "violations: 0")
