"""Keyboard focus while the web app starts, in Chromium against the deployed stack.

The app moves focus to each new page's heading. When it finished starting (its configuration
loaded) it did so too, even if the person had already tabbed somewhere: a keyboard user who
reached "Cart" in the navigation during "Loading…" had their focus taken to the heading, and
Enter then went nowhere (the full run's phone-width gallery test failed so, once in ~1,400).
Here the configuration is held back until the link has focus, so the order is always that one.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.web.conftest import sign_up


def test_focus_placed_while_the_app_loads_stays_where_the_person_put_it(web_url: str, new_page: Any) -> None:
    page = new_page()
    sign_up(page, web_url, role="customer", name="Kim Keys")
    page.get_by_role("heading", name="Hello, Kim Keys").wait_for()

    held: list[Any] = []
    page.route("**/config.json", lambda route: held.append(route))  # answered below, once focus is placed
    page.reload()
    expect(page.get_by_text("Loading…")).to_be_visible()
    cart = page.get_by_role("link", name="Cart (0)")
    cart.focus()
    page.wait_for_function("() => document.activeElement?.textContent === 'Cart (0)'")
    assert len(held) == 1, "the app did not ask for its configuration while loading"
    held[0].continue_()
    page.get_by_role("heading", name="Hello, Kim Keys").wait_for()

    assert page.evaluate("document.activeElement.textContent") == "Cart (0)"
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Cart").wait_for()


def test_a_new_page_still_takes_focus_to_its_heading(web_url: str, new_page: Any) -> None:
    page = new_page()
    sign_up(page, web_url, role="customer", name="Tab Taylor")
    page.get_by_role("heading", name="Hello, Tab Taylor").wait_for()
    page.get_by_role("link", name="Downloads").click()
    page.get_by_role("heading", name="Your downloads").wait_for()
    page.wait_for_function("() => document.activeElement?.textContent === 'Your downloads'")
