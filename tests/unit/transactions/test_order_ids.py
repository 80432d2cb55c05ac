"""Order ids are UUIDv7 (RFC 9562): time-ordered, so new orders append to the order-keyed indexes."""

from __future__ import annotations

import time
import uuid

import pytest
from transactions.repository import new_order_id

pytestmark = pytest.mark.unit


def test_an_order_id_is_a_version_7_uuid_in_its_one_spelling() -> None:
    oid = new_order_id()
    parsed = uuid.UUID(oid)
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert str(parsed) == oid  # the canonical lower-case form get_order compares with


def test_its_first_48_bits_are_the_unix_milliseconds_of_its_creation() -> None:
    before = time.time_ns() // 1_000_000
    ms = uuid.UUID(new_order_id()).int >> 80
    after = time.time_ns() // 1_000_000
    assert before <= ms <= after


def test_ids_of_later_milliseconds_sort_after_earlier_ones_and_never_repeat() -> None:
    first = new_order_id()
    # The first id of a later millisecond (a busy loop of at most about one millisecond).
    second = next(i for i in iter(new_order_id, "") if uuid.UUID(i).int >> 80 > uuid.UUID(first).int >> 80)
    assert first < second
    assert len({new_order_id() for _ in range(10_000)}) == 10_000
