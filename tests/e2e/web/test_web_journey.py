"""The web app's main journey in Chromium, against the deployed stack.

A photographer signs up, creates an event, drops six photos (four generated, and two group
photos from ../shared/data/faces as they are), waits until all are ready and prices them.
A customer opens the event link (signing up on the way), finds the photos of one person from a
selfie of that person that was not uploaded, puts the two matches in the cart, meets an empty
wallet, tops up, buys both, and downloads the originals: byte for byte what was uploaded. The
photographer then sees the sale in their earnings. axe-core runs on every page; screenshots of
each go to .state/web-screenshots/.

Who is where (measured by the faces e2e test): Raj is in bbt1 and bbt4.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e import fixtures_images as images
from tests.e2e.web.conftest import (
    FACES,
    check_axe,
    drop_files,
    no_page_errors,
    page_text_is_clean,
    session_token,
    shot,
    sign_up,
)

pytestmark = pytest.mark.e2e

GROUPS = ("bbt1.jpg", "bbt4.jpg")
SELFIE = FACES / "people" / "raj" / "raj1.png"
READY_TIMEOUT_S = 180


def wait_indexed(stack: dict[str, str], token: str, event_id: str, photo_ids: list[str]) -> None:
    """Face indexing runs off the upload path (queue -> faces function): wait for it, owner's view."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    url = f"{stack['PhotosApiUrl']}/events/{event_id}/photos"
    while time.monotonic() < deadline:
        photos = requests.get(url, params={"limit": 100}, headers={"Authorization": f"Bearer {token}"},
                              timeout=30).json()["photos"]
        if all(p.get("faces") is not None for p in photos if p["id"] in photo_ids):
            return
        time.sleep(1)
    pytest.fail("the group photos were not indexed for face search in time")


def test_photographer_uploads_and_prices_then_a_customer_finds_buys_and_downloads(
        stack: dict[str, str], web_url: str, new_page: Any, tmp_path: Path) -> None:
    # ---- the photographer -------------------------------------------------------------
    studio = new_page()
    sign_up(studio, web_url, role="photographer", name="Ada Lens")
    studio.get_by_role("heading", name="Studio").wait_for()
    check_axe(studio, "studio")
    studio.get_by_label("Name").fill("Summer wedding")
    studio.get_by_label("Place").fill("Lyon")
    studio.get_by_role("button", name="Create event").click()
    studio.wait_for_url("**#/studio/*")
    event_id = studio.url.rsplit("/", 1)[1]

    uploads: dict[str, bytes] = {
        "ceremony.jpg": images.jpeg(1600, 1067, seed=201),
        "rings.jpg": images.jpeg(1200, 800, seed=202),
        "cake.png": images.png(900, 600, seed=203),
        "dance.jpg": images.exif_gps_jpeg(seed=204),
    }
    for name in GROUPS:
        uploads[name] = (FACES / "groups" / name).read_bytes()
    drop_files(studio, ".dropzone", [(n, "image/png" if n.endswith(".png") else "image/jpeg", b)
                                     for n, b in uploads.items()])
    studio.get_by_text("Overall: 100% (6 of 6 files sent)").wait_for(timeout=60_000)
    photo_of = {name: studio.locator(f"li[data-state=uploaded]:has-text('{name}')")
                .get_attribute("data-photo-id") for name in uploads}
    assert all(photo_of.values()) and len(set(photo_of.values())) == 6
    studio.get_by_text("6 ready · 0 processing · 0 failed").wait_for(timeout=READY_TIMEOUT_S * 1000)
    studio.get_by_role("button", name="Select all ready").click()
    studio.get_by_label("Price", exact=True).fill("4.50")
    studio.get_by_role("button", name="Set price for 6 selected").click()
    studio.get_by_text("Priced 6 photos at €4.50.").wait_for()
    check_axe(studio, "studio event")
    assert studio.evaluate("document.documentElement.scrollWidth") <= 1280  # no sideways scrolling
    shot(studio, "studio-event")
    link = studio.get_by_role("link", name=f"#/events/{event_id}").first.get_attribute("href")
    assert link and link.endswith(f"#/events/{event_id}")
    group_ids = [str(photo_of[n]) for n in GROUPS]
    wait_indexed(stack, session_token(studio), event_id, group_ids)

    # ---- the customer opens the link, signs up on the way, finds themselves ----------------
    customer = new_page()
    customer.goto(link)
    customer.get_by_role("heading", name="Sign in").wait_for()
    check_axe(customer, "sign in")
    shot(customer, "sign-in")
    customer.get_by_role("link", name="Create an account").click()
    check_axe(customer, "sign up")
    sign_up(customer, web_url, role="customer", name="Raj K", navigate=False)  # continues to the event
    customer.get_by_role("heading", name="Summer wedding").wait_for()
    customer.locator(".grid img").first.wait_for()
    assert customer.locator(".grid .tile").count() == 6
    check_axe(customer, "gallery")
    shot(customer, "gallery")

    customer.locator("input[type=file]").set_input_files(str(SELFIE))
    customer.get_by_text("2 photos of you, best match first.").wait_for(timeout=60_000)
    customer.locator(".grid .tile img").nth(1).wait_for()
    found = customer.locator(".grid .tile").evaluate_all("els => els.map(e => e.dataset.photoId)")
    assert sorted(found) == sorted(group_ids)

    # The lightbox shows the watermarked preview; both matches go into the cart.
    customer.locator(".grid .tile").first.click()
    dialog = customer.get_by_role("dialog")
    dialog.locator("img").wait_for()
    assert "preview" in str(dialog.locator("img").get_attribute("src"))
    check_axe(customer, "lightbox")
    shot(customer, "lightbox")
    dialog.get_by_role("button", name="Add to cart").click()
    customer.keyboard.press("ArrowRight")
    dialog.get_by_role("button", name="Add to cart").click()
    dialog.get_by_role("button", name="Close").click()
    customer.get_by_role("link", name="Cart (2)").click()

    # An empty wallet is a sentence, then a top-up through the simulated provider, then the order.
    customer.get_by_role("button", name="Buy 2 photos").click()
    alert = customer.get_by_role("alert")
    alert.wait_for()
    assert "Your wallet has €0.00 but these photos cost €9.00" in alert.inner_text()
    customer.get_by_label("Amount").fill("20")
    customer.get_by_role("button", name="Top up").click()
    customer.get_by_text("Added €20.00 to your wallet.").wait_for()
    customer.get_by_role("button", name="Buy 2 photos").click()
    customer.get_by_text("Bought 2 photos for €9.00.").wait_for()
    expect(customer.get_by_test_id("balance")).to_have_text("€11.00")
    check_axe(customer, "cart")
    shot(customer, "cart")

    customer.get_by_role("link", name="Go to your downloads").click()
    customer.get_by_role("heading", name="Your downloads").wait_for()
    for photo_id, name in ((photo_of[n], n) for n in GROUPS):
        line = customer.locator(f"li[data-photo-id='{photo_id}']")
        with customer.expect_download() as download:
            line.get_by_role("button", name="Download original").click()
        saved = download.value.path()
        assert Path(saved).read_bytes() == uploads[name], f"{name}: the download is not the original"
    check_axe(customer, "downloads")
    shot(customer, "downloads")
    customer.get_by_role("link", name="Account").click()
    customer.get_by_role("heading", name="Face recognition").wait_for()
    check_axe(customer, "account")
    page_text_is_clean(customer)
    no_page_errors(customer)

    # ---- the photographer's earnings: 2 x 4.50 less the platform fee ----------------------
    studio.get_by_role("link", name="Earnings").click()
    studio.get_by_role("heading", name="Ledger").wait_for()
    studio.locator("table tbody tr").first.wait_for()
    # 9.00 less the 15 % fee, rounded per photo
    assert re.search(r"€7\.6[4-6]", studio.inner_text("main")), studio.inner_text("main")
    check_axe(studio, "earnings")
    shot(studio, "earnings")
    page_text_is_clean(studio)
    no_page_errors(studio)


def test_the_gallery_works_at_phone_width_and_by_keyboard(web_url: str, new_page: Any) -> None:
    page = new_page(phone=True)
    sign_up(page, web_url, role="customer", name="Pat Phone")
    page.get_by_role("heading", name="Hello, Pat Phone").wait_for()
    check_axe(page, "home (phone)")
    # No horizontal scrolling at 390 px, and the main navigation is reachable by Tab alone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Each page moves focus to its heading; the navigation is right before it, Shift+Tab away.
    focused = []
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        focused.append(page.evaluate("document.activeElement.textContent"))
    assert "Cart (0)" in focused and "Sign out" in focused
    # An expired access token is refreshed (the refresh token rotates) without the person noticing.
    before = page.evaluate("JSON.parse(localStorage.getItem('photostack.session'))")
    page.evaluate("""() => { const s = JSON.parse(localStorage.getItem('photostack.session'));
                             s.expiresAt = 0;
                             localStorage.setItem('photostack.session', JSON.stringify(s)); }""")
    page.reload()
    page.get_by_role("link", name="Cart (0)").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Cart").wait_for()
    expect(page.get_by_test_id("balance")).to_have_text("Your wallet is empty.")
    after = page.evaluate("JSON.parse(localStorage.getItem('photostack.session'))")
    assert after["refreshToken"] != before["refreshToken"] and after["expiresAt"] > before["expiresAt"]
    check_axe(page, "cart (phone)")
    shot(page, "cart-phone")
    no_page_errors(page)
