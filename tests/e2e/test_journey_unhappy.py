"""The journey when things go wrong, through the deployed stack.

A corrupt file in a batch ends ``failed`` with a reason a person can read while the rest
of the batch is ready. Then the photo sidecar is stopped between uploading and buying and
started again: uploads whose bytes reached S3 meanwhile end ready (the upload function
fails, Lambda's async retry does the work), an order placed while it was down is refused
with 503 and charges nothing, and the same order retried with its Idempotency-Key
afterwards succeeds exactly once.
"""

from __future__ import annotations

import pytest
import requests

from tests.e2e import fixtures_images as images
from tests.e2e.journey_support import (
    TIMEOUT,
    Apis,
    assert_error,
    balance,
    browse,
    create_event,
    earnings,
    fund,
    key,
    order,
    person,
    reserve,
    send,
    set_price,
    start_sidecar,
    stop_sidecar,
    upload_all,
    wait_processed,
)

pytestmark = pytest.mark.e2e

PRICE = 700
FEE = 105  # 15 % of 7.00


def test_corrupt_file_fails_alone_and_a_sidecar_restart_costs_no_photo_and_no_money(
        stack: dict[str, str]) -> None:
    apis = Apis.of(stack)
    photographer = person(apis, "photographer")
    customer = person(apis, "customer")
    event_id = create_event(apis, photographer, "Journey: rainy trail race")
    fund(apis.transactions, customer.headers, 3000)

    batch = [(images.jpeg(1200, 800, seed=21), "image/jpeg"), (images.png(900, 600, seed=22), "image/png"),
             (images.corrupt_jpeg(), "image/jpeg"), (images.jpeg(800, 1200, seed=23), "image/jpeg")]
    first = [u.photo_id for u in upload_all(apis, photographer, event_id, batch)]
    corrupt_id = first.pop(2)
    processed = wait_processed(apis, photographer, [*first, corrupt_id])
    assert {processed[i]["status"] for i in first} == {"ready"}
    failed = processed[corrupt_id]
    assert failed["status"] == "failed" and failed["derivatives"] == {}
    reason = failed["failure_reason"]
    assert "JPEG" in reason and ("corrupt" in reason or "not a valid" in reason), reason
    assert "Traceback" not in reason and len(reason) < 300
    for photo_id in first:
        set_price(apis, photographer, photo_id, PRICE)

    # Two more photos are reserved, then the sidecar goes away before their bytes arrive.
    later = [reserve(apis, photographer, event_id, images.jpeg(1000, 750, seed=24 + i), "image/jpeg")
             for i in range(2)]
    idempotency_key = key()["Idempotency-Key"]
    wanted = first[:2]
    stop_sidecar()
    try:
        for upload in later:
            send(apis, photographer, upload)  # S3 takes the bytes; processing has to wait
        refused = requests.post(f"{apis.photos}/uploads", headers=photographer.headers, timeout=TIMEOUT,
                                json={"event_id": event_id, "content_type": "image/jpeg", "size_bytes": 1000})
        assert refused.status_code == 503, refused.text
        # Prices come from the sidecar: the order is refused before anything is written.
        assert_error(order(apis, customer, wanted, idempotency_key), 503, "catalog_unavailable")
        assert balance(apis.transactions, customer.headers) == 3000
    finally:
        start_sidecar(apis)

    bought = order(apis, customer, wanted, idempotency_key)
    assert bought.status_code == 201, bought.text
    assert bought.json()["total_minor"] == 2 * PRICE
    again = order(apis, customer, wanted, idempotency_key)
    assert again.status_code == 201 and again.json() == bought.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert balance(apis.transactions, customer.headers) == 3000 - 2 * PRICE
    assert earnings(apis, photographer)["balance_minor"] == 2 * (PRICE - FEE)

    # The photos whose processing met the stopped sidecar are ready after Lambda's retry
    # (LocalStack retries an async invocation after 60 s, then 120 s more).
    later_ids = [u.photo_id for u in later]
    recovered = wait_processed(apis, photographer, later_ids, timeout_s=240)
    assert {p["status"] for p in recovered.values()} == {"ready"}, recovered

    # Nothing lost, nothing extra: the refused reservation left no photo behind.
    owner_view = [p for page in browse(apis, photographer, event_id, limit=100) for p in page]
    assert sorted((p["id"], p["status"]) for p in owner_view) == sorted(
        [(i, "ready") for i in [*first, *later_ids]] + [(corrupt_id, "failed")])
    customer_view = [p["id"] for page in browse(apis, customer, event_id, limit=100) for p in page]
    assert set(customer_view) == {*first, *later_ids}
