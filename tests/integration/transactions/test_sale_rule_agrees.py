"""One rule for "this photo can be sold", written in two languages: the transactions function's
reading of the sidecar's answer (catalog_grpc.to_catalog_photo, the first check of an order) and
the photos schema's view that the order re-checks under its sale hold (photos.photo_sale_status,
inside the order's one statement). They cannot share code, so this test holds them together: for
every combination of the fields the rule reads, both must say the same.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import psycopg2
import pytest
from photostack import contract
from photostack.photo.v1 import photo_pb2 as pb
from transactions.catalog_grpc import to_catalog_photo

STATUSES = contract.STATUSES
PRICES = (0, 150)
CURRENCIES = ("", "EUR")
VISIBILITIES = contract.VISIBILITIES
UNLISTED = (False, True)

pytestmark = pytest.mark.integration


def _insert(cur: Any, event_id: str, combo: tuple[str, int, str, str, bool]) -> str:
    status, price, currency, visibility, unlisted = combo
    photo_id = str(uuid.uuid4())
    cur.execute(
        "INSERT INTO photos.photos (id, event_id, owner_id, status, original_key, content_type,"
        " declared_bytes, price_minor, currency, visibility, unlisted_at)"
        " VALUES (%s, %s, 'rule-owner', %s, %s, 'image/jpeg', 1, %s, %s, %s,"
        " CASE WHEN %s THEN now() END)",
        (photo_id, event_id, status, contract.original_key(event_id, photo_id), price, currency,
         visibility, unlisted))
    return photo_id


def test_the_catalog_and_the_sale_status_view_agree_on_what_can_be_sold(database_url: str) -> None:
    combos = list(itertools.product(STATUSES, PRICES, CURRENCIES, VISIBILITIES, UNLISTED))
    conn = psycopg2.connect(database_url)
    try:  # one transaction, rolled back: nothing stays in the shared database
        with conn.cursor() as cur:
            event_id = str(uuid.uuid4())
            cur.execute("INSERT INTO photos.events (id, owner_id, name, event_date, visibility)"
                        " VALUES (%s, 'rule-owner', 'sale rule', current_date, 'public')", (event_id,))
            ids = {_insert(cur, event_id, combo): combo for combo in combos}
            cur.execute("SELECT photo_id::text, sellable FROM photos.photo_sale_status"
                        " WHERE photo_id = ANY(%s::uuid[])", (list(ids),))
            view = dict(cur.fetchall())
    finally:
        conn.rollback()
        conn.close()
    assert len(view) == len(combos)
    disagree = []
    for photo_id, (status, price, currency, visibility, unlisted) in ids.items():
        answer = pb.Photo(id=photo_id, event_id=event_id, owner_id="rule-owner",
                          status=contract.STATUS_TO_PB[status], price_minor=price, currency=currency,
                          visibility=contract.VISIBILITY_TO_PB[visibility], unlisted=unlisted)
        if to_catalog_photo(answer).for_sale != view[photo_id]:
            disagree.append((status, price, currency, visibility, unlisted, view[photo_id]))
    assert not disagree, f"the two spellings of the sale rule disagree on: {disagree}"
    assert any(view.values()) and not all(view.values())  # both answers occur
