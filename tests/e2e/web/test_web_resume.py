"""An upload interrupted in the browser resumes after a reload, sending only what S3 lacks.

A photo above the multipart threshold goes up in 8 MiB parts straight to S3. The network drops
every request for part 2 (Playwright's routing), so that file fails with a sentence while part 1
is acknowledged and journaled in the browser's storage. The photographer reloads the page and
drops the same file again: part 1 is not sent again, the other parts are, the same photo is
completed and becomes ready.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e import fixtures_images as images
from tests.e2e.web.conftest import no_page_errors, sign_up

pytestmark = pytest.mark.e2e


def part_number(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("partNumber", [""])[0]


def test_a_multipart_upload_resumes_after_a_reload(web_url: str, new_page: Any) -> None:
    big = images.large_png()
    assert len(big) > images.MULTIPART_THRESHOLD
    page = new_page()
    sign_up(page, web_url, role="photographer", name="Rita Resume")
    page.get_by_label("Name").fill("Resume")
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url("**#/studio/*")
    studio_url = page.url

    def drop_part_two(route: Any) -> None:
        if part_number(route.request.url) == "2":
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/photostack-uploads/**", drop_part_two)
    upload = {"name": "panorama.png", "mimeType": "image/png", "buffer": big}
    page.get_by_test_id("files").set_input_files(upload)
    failed = page.locator("li[data-state=failed]")
    failed.wait_for(timeout=120_000)
    assert "Could not reach storage" in failed.inner_text()
    first_photo = failed.get_attribute("data-photo-id")
    assert first_photo

    # A reload: the same person, the same browser storage, a working network.
    page.unroute("**/photostack-uploads/**")
    page.goto(studio_url)
    page.reload()
    page.get_by_text("1 upload was interrupted in an earlier visit").wait_for()
    parts_sent: list[str] = []
    page.on("request", lambda r: parts_sent.append(part_number(r.url)) if r.method == "PUT" else None)
    page.get_by_test_id("files").set_input_files(upload)
    sent = page.locator("li[data-state=uploaded]")
    sent.wait_for(timeout=120_000)
    assert sent.get_attribute("data-photo-id") == first_photo
    assert parts_sent and "1" not in parts_sent, parts_sent  # part 1 was already in S3
    page.locator(f"li[data-photo-id='{first_photo}'][data-status=ready]").wait_for(timeout=180_000)
    no_page_errors(page)
