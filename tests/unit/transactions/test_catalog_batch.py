"""The gRPC catalog asks for an order's photos in one GetPhotos call, and copes with an older sidecar."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from photostack import errors
from photostack.photo.v1 import photo_pb2 as pb
from photostack.tokens import Principal
from transactions.catalog_grpc import GrpcPhotoCatalog

# The fake client below never looks at the caller, so no signed token (and no running stack for
# the signing key) is needed here.
BUYER = Principal(user_id="c-1", role="customer", token_id="t-1")


def _photo(pid: str) -> pb.Photo:
    return pb.Photo(id=pid, event_id="e", owner_id="ph", price_minor=500, currency="EUR",
                    status=pb.PHOTO_STATUS_READY, visibility=pb.VISIBILITY_PUBLIC)


class FakeClient:
    def __init__(self, known: set[str], batch_error: errors.ApiError | None = None) -> None:
        self.known, self.batch_error = known, batch_error
        self.calls: list[str] = []

    def get_photos(self, request: pb.GetPhotosRequest, *, user: Any = None) -> pb.GetPhotosResponse:
        self.calls.append("GetPhotos")
        if self.batch_error is not None:
            raise self.batch_error
        return pb.GetPhotosResponse(photos=[_photo(p) for p in request.photo_ids if p in self.known])

    def get_photo(self, request: pb.GetPhotoRequest, *, user: Any = None) -> pb.Photo:
        self.calls.append("GetPhoto")
        if request.photo_id not in self.known:
            raise errors.NotFound("photo not found")
        return _photo(request.photo_id)


def test_an_order_is_one_call_keyed_by_the_ids_as_asked() -> None:
    ids = [str(uuid.uuid4()) for _ in range(50)]
    client = FakeClient(set(ids[:49]))
    asked = [i.upper() for i in ids] + ["not-a-uuid"]
    found = GrpcPhotoCatalog(client).get_photos(asked, user=BUYER)  # type: ignore[arg-type]
    assert client.calls == ["GetPhotos"]
    assert set(found) == {i.upper() for i in ids[:49]} and found[ids[0].upper()].for_sale


@pytest.mark.parametrize("refusal", [errors.Forbidden("not allowed"),
                                     errors.ApiError("upstream error", code="upstream_error")])
def test_a_sidecar_without_get_photos_is_asked_photo_by_photo(refusal: errors.ApiError) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    client = FakeClient(set(ids[:2]), batch_error=refusal)
    catalog = GrpcPhotoCatalog(client)  # type: ignore[arg-type]
    assert set(catalog.get_photos(ids, user=BUYER)) == set(ids[:2])
    assert set(catalog.get_photos(ids, user=BUYER)) == set(ids[:2])
    assert client.calls == ["GetPhotos"] + ["GetPhoto"] * 6  # asked once, then remembered


def test_other_errors_are_not_hidden_by_the_fallback() -> None:
    client = FakeClient(set(), batch_error=errors.BadRequest("at most 100 photo ids per call"))
    with pytest.raises(errors.BadRequest):
        GrpcPhotoCatalog(client).get_photos([str(uuid.uuid4())], user=BUYER)  # type: ignore[arg-type]
    assert client.calls == ["GetPhotos"]
