"""The marketplace never gives away what it sells, through the deployed stack (issue 12).

Real photos go through presigned S3 uploads and the upload function; people act only through
API Gateway and S3 URLs. Only the swapped-original case writes to S3 behind the APIs' back,
as an attacker holding an old upload URL (or a leaked key) would.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from PIL import Image

from tests.conftest import aws_client
from tests.e2e import fixtures_images as images
from tests.e2e.journey_support import (
    TIMEOUT,
    Apis,
    Person,
    Upload,
    assert_error,
    balance,
    browse,
    create_event,
    download_url,
    fetch,
    fund,
    order,
    person,
    send,
    set_price,
    wait_processed,
)
from tests.watermark_detector import FOUND, mark_strength

pytestmark = pytest.mark.e2e

THUMB_EDGE = 320
MARK = "photostack"  # the upload function's default watermark text


def reserve(apis: Apis, who: Person, event_id: str, data: bytes, idempotency_key: str) -> requests.Response:
    return requests.post(f"{apis.photos}/uploads", timeout=TIMEOUT,
                         headers={**who.headers, "Idempotency-Key": idempotency_key},
                         json={"event_id": event_id, "content_type": "image/jpeg", "size_bytes": len(data)})


def urls_in(value: Any) -> Iterator[str]:
    """Every URL anywhere in an API answer."""
    if isinstance(value, dict):
        for item in value.values():
            yield from urls_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from urls_in(item)
    elif isinstance(value, str) and value.startswith("http"):
        yield value


def assert_no_clean_copy(answers: list[Any]) -> int:
    """Fetch every URL in the answers: each image is a thumbnail or carries the watermark."""
    fetched = 0
    for url in {u for a in answers for u in urls_in(a)}:
        image = Image.open(io.BytesIO(fetch(url)))
        image.load()
        fetched += 1
        if max(image.size) > THUMB_EDGE:
            assert mark_strength(image, MARK, image.size) > FOUND, f"unwatermarked {image.size} at {url}"
    return fetched


@pytest.fixture(scope="module")
def apis(stack: dict[str, str]) -> Apis:
    return Apis.of(stack)


@pytest.fixture(scope="module")
def shop(apis: Apis, stack: dict[str, str]) -> dict[str, Any]:
    """A photographer's event with four ready, priced photos uploaded with Idempotency-Keys."""
    photographer = person(apis, "photographer")
    event_id = create_event(apis, photographer, "Marketplace: trail race")
    photos: dict[str, dict[str, Any]] = {}
    for name, seed in (("sold", 31), ("swapped", 32), ("deleted_sold", 33), ("unsold", 34)):
        data = images.jpeg(2400, 1600, seed=seed)
        key = f"market-{uuid.uuid4().hex}"
        r = reserve(apis, photographer, event_id, data, key)
        assert r.status_code == 201, r.text
        send(apis, photographer, Upload(r.json()["photo_id"], r.json()["upload"], data))
        photos[name] = {"id": r.json()["photo_id"], "key": key, "data": data}
    ready = wait_processed(apis, photographer, [p["id"] for p in photos.values()], timeout_s=150)
    assert {p["status"] for p in ready.values()} == {"ready"}, ready
    for p in photos.values():
        set_price(apis, photographer, p["id"], 700)
    return {"photographer": photographer, "event_id": event_id, "photos": photos,
            "bucket": stack["UploadsBucketName"]}


def test_a_non_buyer_gets_no_clean_copy_larger_than_the_thumbnail(apis: Apis, shop: dict[str, Any]) -> None:
    customer, rival = person(apis, "customer"), person(apis, "photographer")
    for who in (customer, rival):
        pages = browse(apis, who, shop["event_id"], limit=2)
        listed = [p for page in pages for p in page]
        assert {p["id"] for p in listed} == {p["id"] for p in shop["photos"].values()}
        singles = []
        for p in listed:
            assert p["access"] == "preview"
            assert set(p["derivatives"]) <= {"thumb_jpg", "thumb_webp", "preview_jpg", "preview_webp"}
            assert {"thumb_jpg", "preview_jpg"} <= set(p["derivatives"])
            r = requests.get(f"{apis.photos}/photos/{p['id']}", headers=who.headers, timeout=TIMEOUT)
            assert r.status_code == 200 and r.json()["access"] == "preview"
            assert not set(r.json()["derivatives"]) & {"web_jpg", "web_webp"}
            singles.append(r.json())
            assert_error(download_url(apis, who, p["id"]), 403, "not_entitled")
        # 4 photos x (2 thumbnails + 2 previews), each fetched and looked at: at least 16 URLs
        # (the list and the single GET share a URL when the same warm environment presigned both;
        # from two scaled-out environments they differ, and both are fetched).
        assert assert_no_clean_copy([pages, singles]) >= 16


def test_a_buyer_gets_the_clean_web_size_and_the_original(apis: Apis, shop: dict[str, Any]) -> None:
    buyer = person(apis, "customer")
    fund(apis.transactions, buyer.headers, 2000)
    sold = shop["photos"]["sold"]
    assert order(apis, buyer, [sold["id"]], f"buy-{uuid.uuid4().hex}").status_code == 201
    seen = requests.get(f"{apis.photos}/photos/{sold['id']}", headers=buyer.headers, timeout=TIMEOUT).json()
    assert seen["access"] == "full" and {"web_jpg", "web_webp"} <= set(seen["derivatives"])
    web = Image.open(io.BytesIO(fetch(seen["derivatives"]["web_jpg"]["url"])))
    assert web.size == (2048, 1365)
    assert mark_strength(web, MARK, web.size) < FOUND / 2  # clean: what the buyer paid for
    link = download_url(apis, buyer, sold["id"])
    assert link.status_code == 200 and fetch(link.json()["url"]) == sold["data"]


def test_replaying_the_upload_key_of_a_ready_photo_gives_no_upload_url(apis: Apis,
                                                                       shop: dict[str, Any]) -> None:
    sold = shop["photos"]["sold"]
    replay = reserve(apis, shop["photographer"], shop["event_id"], sold["data"], sold["key"])
    assert replay.status_code == 409, replay.text
    assert replay.json()["error"]["code"] == "conflict" and "ready" in replay.json()["error"]["message"]
    assert "upload" not in replay.json() and "http" not in replay.text


def test_a_swapped_original_is_refused_not_served(apis: Apis, shop: dict[str, Any]) -> None:
    buyer = person(apis, "customer")
    fund(apis.transactions, buyer.headers, 2000)
    swapped = shop["photos"]["swapped"]
    assert order(apis, buyer, [swapped["id"]], f"buy-{uuid.uuid4().hex}").status_code == 201
    assert download_url(apis, buyer, swapped["id"]).status_code == 200
    # The original overwritten in S3 directly (an old presigned PUT, a leaked key).
    aws_client("s3").put_object(Bucket=shop["bucket"], Key=f"originals/{shop['event_id']}/{swapped['id']}",
                                Body=images.jpeg(2400, 1600, seed=99), ContentType="image/jpeg")
    for who in (buyer, shop["photographer"]):
        assert_error(download_url(apis, who, swapped["id"]), 409, "original_changed")


def test_deleting_a_sold_photo_unlists_it_and_its_buyer_keeps_the_download(apis: Apis,
                                                                           shop: dict[str, Any]) -> None:
    buyer, other = person(apis, "customer"), person(apis, "customer")
    fund(apis.transactions, buyer.headers, 2000)
    fund(apis.transactions, other.headers, 2000)
    target = shop["photos"]["deleted_sold"]
    assert order(apis, buyer, [target["id"]], f"buy-{uuid.uuid4().hex}").status_code == 201
    r = requests.delete(f"{apis.photos}/photos/{target['id']}", headers=shop["photographer"].headers,
                        timeout=TIMEOUT)
    assert r.status_code == 204, r.text

    # Gone from browsing for everyone else (its photographer included) and from sale.
    for who in (other, shop["photographer"]):
        listed = [p["id"] for page in browse(apis, who, shop["event_id"], limit=10) for p in page]
        assert target["id"] not in listed and shop["photos"]["unsold"]["id"] in listed
        r = requests.get(f"{apis.photos}/photos/{target['id']}", headers=who.headers, timeout=TIMEOUT)
        assert r.status_code == 404
    refused = order(apis, other, [target["id"]], f"buy-{uuid.uuid4().hex}")
    assert refused.status_code in (404, 422), refused.text
    assert balance(apis.transactions, other.headers) == 2000
    # The buyer downloads the original as before.
    link = download_url(apis, buyer, target["id"])
    assert link.status_code == 200, link.text
    assert fetch(link.json()["url"]) == target["data"]


def test_deleting_a_photo_nobody_bought_removes_its_objects(apis: Apis, shop: dict[str, Any]) -> None:
    unsold = shop["photos"]["unsold"]
    s3 = aws_client("s3")
    original = f"originals/{shop['event_id']}/{unsold['id']}"
    assert s3.list_object_versions(Bucket=shop["bucket"], Prefix=original).get("Versions")
    r = requests.delete(f"{apis.photos}/photos/{unsold['id']}", headers=shop["photographer"].headers,
                        timeout=TIMEOUT)
    assert r.status_code == 204, r.text
    versions = s3.list_object_versions(Bucket=shop["bucket"], Prefix=original)
    assert not versions.get("Versions") and not versions.get("DeleteMarkers")
    derivatives = s3.list_objects_v2(Bucket=shop["bucket"].replace("uploads", "derivatives"),
                                     Prefix=f"derivatives/{shop['event_id']}/{unsold['id']}/")
    assert derivatives.get("KeyCount", 0) == 0


def test_a_private_event_photo_cannot_be_bought_by_someone_who_cannot_see_it(apis: Apis) -> None:
    photographer, customer = person(apis, "photographer"), person(apis, "customer")
    r = requests.post(f"{apis.photos}/events", headers=photographer.headers, timeout=TIMEOUT,
                      json={"name": "Private wedding", "date": "2025-06-01", "visibility": "private"})
    assert r.status_code == 201, r.text
    event_id = r.json()["id"]
    data = images.jpeg(1200, 800, seed=41)
    reserved = reserve(apis, photographer, event_id, data, f"private-{uuid.uuid4().hex}")
    assert reserved.status_code == 201, reserved.text
    photo_id = reserved.json()["photo_id"]
    send(apis, photographer, Upload(photo_id, reserved.json()["upload"], data))
    assert wait_processed(apis, photographer, [photo_id])[photo_id]["status"] == "ready"
    set_price(apis, photographer, photo_id, 500)  # the photo itself is public and priced

    fund(apis.transactions, customer.headers, 2000)
    assert requests.get(f"{apis.photos}/photos/{photo_id}", headers=customer.headers,
                        timeout=TIMEOUT).status_code == 404
    assert_error(order(apis, customer, [photo_id], f"buy-{uuid.uuid4().hex}"), 404, "photo_not_found")
    assert balance(apis.transactions, customer.headers) == 2000
    r = requests.get(f"{apis.transactions}/purchases", headers=customer.headers, timeout=TIMEOUT)
    assert r.json()["purchases"] == []
