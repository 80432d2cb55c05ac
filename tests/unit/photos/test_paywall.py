"""The paywall and the sold-photo rules of the sidecar, pure: who gets which derivative."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from photostack.photo.v1 import photo_pb2 as pb

from sidecar import domain as d
from sidecar import messages as m

pytestmark = pytest.mark.unit

NOW = dt.datetime(2025, 5, 1, 12, 0, tzinfo=dt.UTC)
OWNER = d.Caller("owner", "photographer")
CUSTOMER = d.Caller("someone", "customer")
OTHER_PHOTOGRAPHER = d.Caller("rival", "photographer")
ADMIN = d.Caller("root", "admin")
SERVICE = d.Caller("service:transactions", "service")
KINDS = ("web_jpg", "web_webp", "preview_jpg", "preview_webp", "thumb_jpg", "thumb_webp")


def photo(**kw: object) -> d.Photo:
    base: dict[str, object] = dict(
        id=str(uuid.uuid4()), event_id=str(uuid.uuid4()), owner_id="owner", status="ready",
        original_key="originals/e/p", content_type="image/jpeg", declared_bytes=10, created_at=NOW,
        updated_at=NOW, event_visibility="public", sha256="ab" * 32, original_etag="etag-1",
        original_version_id="v1",
        derivatives=tuple(d.Derivative(k, f"derivatives/e/p/{k}", 10, 10, 10, "image/jpeg") for k in KINDS),
    )
    base.update(kw)
    return d.Photo(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("caller", [CUSTOMER, OTHER_PHOTOGRAPHER])
def test_someone_who_has_not_bought_gets_the_thumbnail_and_the_watermarked_preview_only(
        caller: d.Caller) -> None:
    seen = d.view_for(caller, photo(), bought=False)
    assert {x.kind for x in seen.derivatives} == {"preview_jpg", "preview_webp", "thumb_jpg", "thumb_webp"}
    assert not seen.full_access
    assert seen.original_key == "" and seen.original_etag is None and seen.original_version_id is None
    assert seen.sha256 is None


@pytest.mark.parametrize(("caller", "bought"), [(OWNER, False), (CUSTOMER, True), (ADMIN, False),
                                                (SERVICE, False)])
def test_owner_buyers_admins_and_services_get_every_size(caller: d.Caller, bought: bool) -> None:
    seen = d.view_for(caller, photo(), bought=bought)
    assert {x.kind for x in seen.derivatives} == set(KINDS) and seen.full_access
    assert seen.original_key == "originals/e/p"


def test_unknown_kinds_are_withheld_by_default() -> None:
    odd = photo(derivatives=(d.Derivative("print_tiff", "k", 1, 1, 1, "image/tiff"),
                             d.Derivative("thumbnail", "k2", 1, 1, 1, "image/jpeg")))
    assert d.view_for(CUSTOMER, odd, bought=False).derivatives == ()


def test_a_photo_that_skipped_the_rules_leaves_the_sidecar_with_the_free_kinds_only() -> None:
    # A photo straight from the repository (full_access False) converted to a message: the one
    # exit of every photo applies the paywall on its own.
    msg = m.photo(photo())
    assert {x.kind for x in msg.derivatives} == {"preview_jpg", "preview_webp", "thumb_jpg", "thumb_webp"}
    assert msg.original_key == "" and not msg.full_access
    full = m.photo(d.view_for(OWNER, photo(), bought=False))
    assert len(full.derivatives) == len(KINDS) and full.full_access and full.original_version_id == "v1"


def test_an_unlisted_photo_is_seen_by_its_buyers_admins_and_services_only() -> None:
    gone = photo(unlisted_at=NOW)
    assert not d.can_see_photo(OWNER, gone)
    assert not d.can_see_photo(CUSTOMER, gone)
    assert d.can_see_photo(CUSTOMER, gone, bought=True)
    assert d.can_see_photo(ADMIN, gone) and d.can_see_photo(SERVICE, gone)
    assert m.photo(d.view_for(SERVICE, gone, bought=False)).unlisted


def test_a_buyer_keeps_seeing_a_photo_that_turned_private() -> None:
    private = photo(visibility="private")
    assert not d.can_see_photo(CUSTOMER, private)
    assert d.can_see_photo(CUSTOMER, private, bought=True)


@pytest.mark.parametrize("state", [{"status": "ready"}, {"status": "failed"},
                                   {"status": "pending", "unlisted_at": NOW}])
def test_no_new_upload_of_the_original_once_the_photo_is_not_pending(state: dict[str, object]) -> None:
    with pytest.raises(d.FailedPrecondition, match="can no longer be uploaded"):
        d.require_replaceable(photo(**state))
    d.require_replaceable(photo(status="pending"))


def test_the_purchase_lookup_is_skipped_for_owners_and_privileged_callers() -> None:
    assert not d.needs_purchase_check(OWNER, photo())
    assert not d.needs_purchase_check(ADMIN, photo()) and not d.needs_purchase_check(SERVICE, photo())
    assert d.needs_purchase_check(CUSTOMER, photo())


def test_the_original_identity_travels_from_the_pipeline() -> None:
    req = pb.RegisterDerivativesRequest(photo_id="p", sha256="ab" * 32, original_etag="e",
                                        original_version_id="v")
    processed = m.processed(req)
    assert (processed.original_etag, processed.original_version_id) == ("e", "v")
