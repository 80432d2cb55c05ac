"""Rules of the photo sidecar that need no I/O: visibility, validation, cursors."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sidecar import domain as d

pytestmark = pytest.mark.unit

NOW = dt.datetime(2025, 5, 1, 12, 0, tzinfo=dt.UTC)
OWNER = d.Caller("owner", "photographer")
STRANGER = d.Caller("someone", "customer")


def photo(**kw: object) -> d.Photo:
    base: dict[str, object] = dict(
        id=str(uuid.uuid4()),
        event_id=str(uuid.uuid4()),
        owner_id="owner",
        status="ready",
        original_key="originals/e/p",
        content_type="image/jpeg",
        declared_bytes=10,
        created_at=NOW,
        updated_at=NOW,
        event_visibility="public",
    )
    base.update(kw)
    return d.Photo(**base)  # type: ignore[arg-type]


def test_strangers_see_only_ready_public_photos_of_public_events() -> None:
    assert d.can_see_photo(STRANGER, photo())
    assert not d.can_see_photo(STRANGER, photo(status="pending"))
    assert not d.can_see_photo(STRANGER, photo(visibility="private"))
    assert not d.can_see_photo(STRANGER, photo(event_visibility="private"))
    assert d.can_see_photo(OWNER, photo(status="failed", visibility="private", event_visibility="private"))
    assert d.can_see_photo(d.Caller("upload", "service"), photo(status="pending"))


def test_event_visibility() -> None:
    event = d.Event("e", "owner", "n", "2025-05-01", "", "private", NOW)
    assert d.can_see_event(OWNER, event)
    assert not d.can_see_event(STRANGER, event)
    assert d.can_see_event(d.Caller("a", "admin"), event)


def test_only_photographers_create_events_with_valid_fields() -> None:
    with pytest.raises(d.PermissionDenied):
        d.validate_new_event(STRANGER, d.NewEvent("n", "2025-05-01", "", "public"))
    with pytest.raises(d.InvalidArgument):
        d.validate_new_event(OWNER, d.NewEvent("  ", "2025-05-01", "", "public"))
    with pytest.raises(d.InvalidArgument):
        d.validate_new_event(OWNER, d.NewEvent("n", "2025-13-01", "", "public"))
    with pytest.raises(d.InvalidArgument):
        d.validate_new_event(OWNER, d.NewEvent("n", "2025-05-01", "", "secret"))
    ok = d.validate_new_event(OWNER, d.NewEvent(" Wedding ", "2025-05-01", " Lyon ", "private", " "))
    assert (ok.name, ok.place, ok.idempotency_key) == ("Wedding", "Lyon", None)


def test_prices_need_a_currency_and_stay_in_range() -> None:
    p = photo()
    assert d.apply_change(p, d.PhotoChange(price_minor=1500, currency="eur")) == (1500, "EUR", "public")
    with pytest.raises(d.InvalidArgument):
        d.apply_change(p, d.PhotoChange(price_minor=1500))
    with pytest.raises(d.InvalidArgument):
        d.apply_change(p, d.PhotoChange(price_minor=-1, currency="EUR"))
    with pytest.raises(d.InvalidArgument):
        d.apply_change(p, d.PhotoChange(currency="EURO"))
    assert d.apply_change(p, d.PhotoChange(price_minor=0, currency="")) == (0, "", "public")


def test_processing_results_are_validated() -> None:
    good = d.Derivative("web", "web/x.jpg", 10, 10, 100, "image/jpeg")
    ok = d.Processed((good,), 10, 10, 100, "a" * 64)
    d.validate_processed(ok)
    for bad in (
        d.Processed((), 10, 10, 100, "a" * 64),
        d.Processed((good, good), 10, 10, 100, "a" * 64),
        d.Processed((good,), 10, 10, 100, "not-a-hash"),
        d.Processed((d.Derivative("web", "", 10, 10, 100, "image/jpeg"),), 10, 10, 100, "a" * 64),
        d.Processed((good,), 0, 10, 100, "a" * 64),
    ):
        with pytest.raises(d.InvalidArgument):
            d.validate_processed(bad)


@given(st.datetimes(timezones=st.just(dt.UTC)), st.uuids())
def test_cursor_round_trip(created: dt.datetime, item: uuid.UUID) -> None:
    assert d.decode_cursor(d.encode_cursor(created, str(item))) == (created, str(item))


@pytest.mark.parametrize("cursor", ["x", "!!!", "bnVsbA", d.encode_cursor(NOW, "e")[:-3] + "AAA"])
def test_garbage_cursors_are_invalid_arguments(cursor: str) -> None:
    with pytest.raises(d.InvalidArgument):
        d.decode_cursor(cursor)


def test_unknown_ids_are_not_found() -> None:
    with pytest.raises(d.NotFound):
        d.parse_uuid("../etc", "photo")


def test_page_size_bounds() -> None:
    assert d.page_size(0) == d.DEFAULT_PAGE
    with pytest.raises(d.InvalidArgument):
        d.page_size(101)
