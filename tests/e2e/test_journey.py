"""The whole journey through the deployed stack, as its users live it: HTTP to API Gateway,
bytes to S3 through presigned URLs, the upload function triggered by S3; nothing is read
from or written to the database behind the APIs' backs.

A photographer signs up, creates an event, uploads a batch (JPEGs, PNGs, one over the
multipart threshold, one phone photo with EXIF orientation and GPS), waits for every photo
to be ready and prices them. A customer tops up through the signed payment webhook, pages
through the event, buys two photos with an Idempotency-Key (and retries), and downloads
byte-identical originals. The photographer's earnings show the platform fee; a third
person cannot download.
"""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from tests.e2e import fixtures_images as images
from tests.e2e.journey_support import (
    Apis,
    assert_error,
    balance,
    browse,
    create_event,
    download_url,
    earnings,
    fetch,
    fund,
    order,
    person,
    set_price,
    upload_all,
    wait_processed,
)

pytestmark = pytest.mark.e2e

FEE_BPS = 1500  # PHOTOSTACK_PLATFORM_FEE_BPS of the local stack


def test_photographer_uploads_customer_buys_and_downloads(stack: dict[str, str]) -> None:
    apis = Apis.of(stack)
    photographer = person(apis, "photographer")
    event_id = create_event(apis, photographer, "Journey: city marathon")

    big, phone = images.large_png(), images.exif_gps_jpeg()
    batch = [
        (images.jpeg(1200, 800, seed=1), "image/jpeg"),
        (images.jpeg(1600, 1067, seed=2), "image/jpeg"),
        (images.jpeg(900, 1350, seed=3), "image/jpeg"),
        (images.png(1000, 700, seed=4), "image/png"),
        (images.png(800, 800, seed=5), "image/png"),
        (big, "image/png"),
        (phone, "image/jpeg"),
    ]
    uploads = upload_all(apis, photographer, event_id, batch)
    ids = [u.photo_id for u in uploads]
    big_id, phone_id = ids[5], ids[6]
    assert uploads[5].target["method"] == "MULTIPART" and len(uploads[5].target["parts"]) == 3
    assert {u.target["method"] for u in uploads[:5]} == {"PUT"}

    processed = wait_processed(apis, photographer, ids, timeout_s=150)
    assert {p["status"] for p in processed.values()} == {"ready"}, {
        i: (p["status"], p.get("failure_reason")) for i, p in processed.items()}
    assert processed[big_id]["size_bytes"] == len(big)
    assert (processed[big_id]["width"], processed[big_id]["height"]) == (2600, 2400)

    # The phone photo: shown portrait (EXIF orientation 6 applied), and no derivative keeps
    # the EXIF block, so the GPS position stays with the original.
    shown = processed[phone_id]
    assert (shown["width"], shown["height"]) == (800, 1200)
    assert shown["camera"] == "Photostack Journey Cam"
    assert shown["captured_at"].startswith("2025-06-01T10:30:00")
    assert images.has_gps(phone)
    assert {"web_jpg", "web_webp", "preview_jpg", "thumb_jpg"} <= set(shown["derivatives"])
    for kind, derivative in shown["derivatives"].items():
        body = fetch(derivative["url"])
        decoded = Image.open(io.BytesIO(body))
        assert decoded.size == (derivative["width"], derivative["height"]), kind
        assert decoded.height > decoded.width, f"{kind} is not rotated: {decoded.size}"
        assert not images.has_gps(body), f"{kind} carries EXIF/GPS"
    web = shown["derivatives"]["web_jpg"]
    assert (web["width"], web["height"]) == (800, 1200)

    prices = {photo_id: 500 for photo_id in ids} | {big_id: 1250, phone_id: 990}
    for photo_id, minor in prices.items():
        set_price(apis, photographer, photo_id, minor)

    # A customer with 50.00 EUR, confirmed by the provider's signed webhook.
    customer = person(apis, "customer")
    assert balance(apis.transactions, customer.headers) == 0
    fund(apis.transactions, customer.headers, 5000)
    assert balance(apis.transactions, customer.headers) == 5000

    # Two photos a page: every photo exactly once, in a stable order, each priced.
    pages = browse(apis, customer, event_id, limit=2)
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    seen = [p["id"] for page in pages for p in page]
    assert len(seen) == len(set(seen)) and set(seen) == set(ids)
    assert {p["id"]: p["price"]["minor"] for page in pages for p in page} == prices
    assert all("sha256" not in p and "failure_reason" not in p for page in pages for p in page)

    # Buy two; the client retries the same request (say its connection dropped).
    idempotency_key = f"journey-{uuid.uuid4().hex}"
    bought = order(apis, customer, [big_id, phone_id], idempotency_key)
    assert bought.status_code == 201, bought.text
    assert bought.json()["status"] == "paid" and bought.json()["total_minor"] == 2240
    retried = order(apis, customer, [big_id, phone_id], idempotency_key)
    assert retried.status_code == 201 and retried.json() == bought.json()
    assert retried.headers.get("Idempotent-Replayed") == "true"
    assert balance(apis.transactions, customer.headers) == 5000 - 2240

    # The originals, byte for byte (the big one was assembled by S3 from three parts).
    for photo_id, original in ((big_id, big), (phone_id, phone)):
        link = download_url(apis, customer, photo_id)
        assert link.status_code == 200, link.text
        assert fetch(link.json()["url"]) == original

    fees = 188 + 149  # 15 % of 12.50 and of 9.90, rounded half up to whole cents
    assert earnings(apis, photographer) == {"currency": "EUR", "fee_bps": FEE_BPS, "sales": 2, "refunded": 0,
                        "gross_minor": 2240, "fee_minor": fees, "net_minor": 2240 - fees,
                        "balance_minor": 2240 - fees}

    stranger = person(apis, "customer")
    for photo_id in (big_id, phone_id):
        assert_error(download_url(apis, stranger, photo_id), 403, "not_entitled")
    assert_error(download_url(apis, customer, ids[0]), 403, "not_entitled")

