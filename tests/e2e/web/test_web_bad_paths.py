"""The web app's bad paths in Chromium: each ends as a sentence on the page, never a trace.

- a wrong password;
- a corrupt file among good ones: it alone fails, with the upload function's reason;
- a selfie with no face in it, and one with several;
(an empty wallet at checkout is part of the main journey, test_web_journey.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e import fixtures_images as images
from tests.e2e.web.conftest import (
    FACES,
    PASSWORD,
    check_axe,
    no_page_errors,
    page_text_is_clean,
    shot,
    sign_up,
)

pytestmark = pytest.mark.e2e


def test_a_wrong_password_is_a_sentence(web_url: str, new_page: Any) -> None:
    page = new_page()
    email = sign_up(page, web_url, role="customer", name="Wendy Wrong")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD + " not")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    text = alert.inner_text()
    assert text.endswith(".") and text[0].isupper() and "password" in text.lower(), text
    assert page.get_by_role("button", name="Sign out").count() == 0
    check_axe(page, "sign in with an error")
    page_text_is_clean(page)
    no_page_errors(page)


def test_a_corrupt_file_fails_alone_with_its_reason_and_a_faceless_selfie_is_explained(
        web_url: str, new_page: Any) -> None:
    studio = new_page()
    sign_up(studio, web_url, role="photographer", name="Carl Corrupt")
    studio.get_by_label("Name").fill("Bad paths")
    studio.get_by_role("button", name="Create event").click()
    studio.wait_for_url("**#/studio/*")
    event_id = studio.url.rsplit("/", 1)[1]
    files = [
        {"name": "good.jpg", "mimeType": "image/jpeg", "buffer": images.jpeg(800, 600, seed=301)},
        {"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": images.corrupt_jpeg(seed=302)},
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo at all"},
    ]
    studio.get_by_test_id("files").set_input_files(files)
    # Refused in the browser before any request: not an image.
    studio.locator("li[data-state=failed]:has-text('notes.txt')").get_by_text(
        "Not a JPEG, PNG or WebP image.").wait_for()
    studio.get_by_text("1 ready · 0 processing · 1 failed").wait_for(timeout=120_000)
    failed = studio.locator("li[data-status=failed]")
    reason = failed.inner_text()
    assert "failed:" in reason and "unknown reason" not in reason, reason
    check_axe(studio, "studio with a failed photo")
    shot(studio, "studio-failed")
    page_text_is_clean(studio)
    no_page_errors(studio)

    customer = new_page(phone=True)
    sign_up(customer, web_url, role="customer", name="Nora Noface")
    customer.goto(f"{web_url}#/events/{event_id}")
    customer.locator(".grid img").first.wait_for()
    customer.locator("input[type=file]").set_input_files(
        {"name": "wall.jpg", "mimeType": "image/jpeg", "buffer": images.jpeg(640, 480, seed=303)})
    alert = customer.get_by_role("alert")
    alert.wait_for(timeout=60_000)
    assert alert.inner_text() == ("We could not find a face in that picture. "
                                  "Try a clear, well-lit selfie facing the camera.")
    customer.locator("input[type=file]").set_input_files(str(FACES / "groups" / "bbt1.jpg"))
    several = customer.get_by_role("alert").get_by_text("That picture shows more than one face.")
    several.wait_for(timeout=60_000)
    assert customer.evaluate("document.documentElement.scrollWidth") <= 390  # phone width, no sideways scroll
    check_axe(customer, "gallery with a face-search error (phone)")
    shot(customer, "gallery-phone-noface")
    page_text_is_clean(customer)
    no_page_errors(customer)
