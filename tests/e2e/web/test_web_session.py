"""The web app's session when its refresh meets trouble, in Chromium against the deployed stack.

The app refreshes an expired access token with the single-use refresh token. A refresh that the
server refuses (401: expired, revoked, reused) ends the session: the person signs in again. A
refresh that fails for another reason (a throttled or failing server, here a 503 put in its way
by the browser, so the server never sees the attempt) says nothing about the session: the page
shows a sentence, the person stays signed in, and the next request refreshes with the same token.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.web.conftest import no_page_errors, page_text_is_clean, sign_up

pytestmark = pytest.mark.e2e

EXPIRE = """() => { const s = JSON.parse(localStorage.getItem('photostack.session'));
                    s.expiresAt = 0;
                    localStorage.setItem('photostack.session', JSON.stringify(s)); }"""


def stored_session(page: Any) -> dict[str, Any]:
    return dict(json.loads(page.evaluate("localStorage.getItem('photostack.session')")))


def test_a_failing_refresh_keeps_the_person_signed_in(web_url: str, new_page: Any) -> None:
    page = new_page()
    sign_up(page, web_url, role="customer", name="Hal Hiccup")
    page.get_by_role("heading", name="Hello, Hal Hiccup").wait_for()
    page.evaluate(EXPIRE)
    before = stored_session(page)

    refreshes: list[str] = []

    def unavailable(route: Any) -> None:
        refreshes.append(route.request.method)
        route.fulfill(status=503, content_type="application/json",
                      body=json.dumps({"error": {"code": "service_unavailable",
                                                 "message": "the service is busy, try again"}}))

    page.route("**/auth/refresh", unavailable)
    page.reload()
    expect(page.get_by_role("alert")).to_have_text("The service is busy, try again.")
    assert refreshes == ["POST"], refreshes
    # Still signed in, with the refresh token the server never saw used.
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert stored_session(page)["refreshToken"] == before["refreshToken"]
    page_text_is_clean(page)

    page.unroute("**/auth/refresh")
    page.get_by_role("link", name="Cart (0)").click()
    page.get_by_role("heading", name="Cart").wait_for()
    expect(page.get_by_test_id("balance")).to_have_text("Your wallet is empty.")
    after = stored_session(page)
    assert after["refreshToken"] != before["refreshToken"] and after["expiresAt"] > before["expiresAt"]
    no_page_errors(page)


def test_a_refused_refresh_signs_the_person_out(web_url: str, new_page: Any) -> None:
    page = new_page()
    sign_up(page, web_url, role="customer", name="Rita Revoked")
    page.get_by_role("heading", name="Hello, Rita Revoked").wait_for()
    # The refresh token is spent elsewhere first (as a second tab or a thief would), so the
    # app's own refresh below is a reuse: the server refuses it and revokes the whole login.
    token = stored_session(page)["refreshToken"]
    config = page.evaluate("fetch('./config.json').then(r => r.json())")
    spent = page.request.post(config["usersApiUrl"] + "/auth/refresh", data={"refresh_token": token})
    assert spent.status == 200, spent.text()
    page.evaluate(EXPIRE)
    page.reload()
    page.get_by_role("heading", name="Sign in").wait_for()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert page.evaluate("localStorage.getItem('photostack.session')") is None
    page_text_is_clean(page)
    no_page_errors(page)
