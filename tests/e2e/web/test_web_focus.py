"""Keyboard focus while the web app starts, in Chromium against the deployed stack.

The app moves focus to each new page's heading. When it finished starting (its configuration
loaded) it did so too, even if the person had already tabbed somewhere: a keyboard user who
reached "Cart" in the navigation during "Loading…" had their focus taken to the heading, and
Enter then went nowhere (the full run's phone-width gallery test failed so, once in ~1,400).
Here the configuration is held back until the link has focus, so the order is always that one.

The same test failed once more (in CI): the address said #/cart and the page still showed the
start. The pages took the address from their own subscription to it, made in an effect, and
effects run only after the next frame; a link followed between the pages' first render (the
configuration just loaded) and that frame was never seen by them. Now the app has one reading of
the address, and every outside value is read again right after subscribing. The second test puts
the link exactly there: frames come late, as on a busy machine, and the address changes in the
first task after the configuration has arrived.
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


FOLLOW_A_LINK_AS_THE_APP_STARTS = """(() => {
  const original = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const response = await original(input, init);
    if (String(input).includes("config.json")) {
      const json = response.json.bind(response);
      response.json = async () => {
        const body = await json();
        setTimeout(() => { location.hash = "#/cart"; }, 0);  // after the app has rendered its pages
        return body;
      };
    }
    return response;
  };
  // A busy machine's late frame: the app's effects wait for their timer instead.
  window.requestAnimationFrame = (callback) => setTimeout(() => callback(performance.now()), 200);
})();"""


def test_a_link_followed_while_the_app_starts_leads_to_its_page(web_url: str, new_page: Any) -> None:
    page = new_page()
    sign_up(page, web_url, role="customer", name="Quinn Quick")
    page.get_by_role("heading", name="Hello, Quinn Quick").wait_for()
    page.add_init_script(FOLLOW_A_LINK_AS_THE_APP_STARTS)  # from the next load on: the reload
    page.reload()
    page.get_by_role("heading", name="Cart").wait_for()
    assert page.url.endswith("#/cart")
    expect(page.get_by_role("heading", name="Hello, Quinn Quick")).to_have_count(0)
