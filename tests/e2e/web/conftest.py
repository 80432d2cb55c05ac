"""The web app in a real browser: Playwright for Python driving Debian's Chromium.

Playwright's own browser download cannot be fetched here, so the browser is the system's
(`apt-get install chromium`, done by `make setup`), launched through ``executable_path`` with
the flags that keep it off the closed network. Each person gets a fresh browser context
(their own storage), so a photographer and a customer never share a session.

Every main page is checked with axe-core (from web/node_modules, injected into the page):
no serious or critical violation. Screenshots go to .state/web-screenshots/.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = os.environ.get("PHOTOSTACK_CHROMIUM", "/usr/bin/chromium")
# As root (the sessions, CI) Chromium needs --no-sandbox; the rest keep it off the closed network.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / ".state" / "web-screenshots"
FACES = ROOT.parent / "shared" / "data" / "faces"
PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def web_url(stack: dict[str, str]) -> str:
    url = stack.get("WebUrl")
    if not url:
        pytest.fail("the web app is not published: run `make deploy` (infra/web_publish.py)")
    return url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report: Any = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
        if report.failed:
            # CI keeps only the test output: say there what each page showed and what it asked for.
            for title, text in item.stash.get(PAGES, lambda: [])():
                report.sections.append((title, text))
    return report


FAILED = pytest.StashKey[bool]()
PAGES = pytest.StashKey[Callable[[], list[tuple[str, str]]]]()
TRAFFIC_KEPT = 40  # the last requests of each page, enough to see the steps before a failure


def page_state(page: Any, traffic: list[str], console: list[str]) -> str:
    """What a page showed and the last requests it made, as text for a failed test's report."""
    try:
        shown = page.inner_text("body", timeout=2_000)[:1_500]
    except Exception as exc:  # a closed or crashed page still reports its traffic
        shown = f"(page text unavailable: {type(exc).__name__})"
    return "\n".join([f"url: {page.url}", "shown:", shown, "requests (last first):",
                      *reversed(traffic[-TRAFFIC_KEPT:]), "console:", *console[-20:]])


def watch(page: Any, traffic: list[str], console: list[str]) -> None:
    """Log each request's method, path and outcome (never its headers or body: they hold tokens)."""
    def path(url: str) -> str:
        return url.split("?", 1)[0][-120:]

    page.on("response", lambda r: traffic.append(f"  {r.request.method} {path(r.url)} -> {r.status}"))
    page.on("requestfailed",
            lambda r: traffic.append(f"  {r.method} {path(r.url)} -> failed: {r.failure}"))
    page.on("console", lambda m: console.append(f"  {m.type}: {m.text[:300]}"))


@pytest.fixture
def new_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """A page in a fresh context (one person); ``phone=True`` for a phone-sized viewport.
    When the test fails, every page's last state is saved as a screenshot, to see what it showed."""
    contexts: list[Any] = []

    def make(*, phone: bool = False) -> Any:
        context = browser.new_context(accept_downloads=True, viewport=PHONE if phone else DESKTOP,
                                      device_scale_factor=1)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.page_errors = errors  # checked by no_page_errors()
        traffic: list[str] = []
        console: list[str] = []
        watch(page, traffic, console)
        watched.append((page, traffic, console))
        return page

    watched: list[tuple[Any, list[str], list[str]]] = []
    request.node.stash[PAGES] = lambda: [(f"page {i}", page_state(p, t, c))
                                         for i, (p, t, c) in enumerate(watched)]
    yield make
    if request.node.stash.get(FAILED, False):
        for i, context in enumerate(contexts):
            for j, page in enumerate(context.pages):
                shot(page, f"failed-{request.node.name[:60]}-{i}{j}")
    for context in contexts:
        context.close()


def unique_email(tag: str) -> str:
    return f"web-{tag}-{uuid.uuid4().hex[:10]}@example.com"


def sign_up(page: Any, web_url: str, *, role: str, name: str, email: str | None = None,
            navigate: bool = True) -> str:
    """Create an account through the sign-up form (``navigate=False``: the form is already open,
    reached from an event link's sign-in page, and leads back to that event)."""
    email = email or unique_email(role)
    if navigate:
        page.goto(web_url + "#/signup")
    page.get_by_role("heading", name="Create an account").wait_for()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password (at least 8 characters)").fill(PASSWORD)
    page.get_by_label("a photographer" if role == "photographer" else "looking for my photos").check()
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("button", name="Sign out").wait_for()
    return email


def session_token(page: Any) -> str:
    raw = page.evaluate("localStorage.getItem('photostack.session')")
    return str(json.loads(raw)["accessToken"])


def check_axe(page: Any, name: str) -> None:
    """axe-core on the page as it is: no serious or critical violation."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
        .violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                               targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"axe on {name}: " + json.dumps(bad, indent=1)


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_page_errors(page: Any) -> None:
    assert not page.page_errors, f"uncaught errors in the page: {page.page_errors}"


def page_text_is_clean(page: Any) -> None:
    """No stack trace or raw JSON error reaches the person."""
    text = page.inner_text("body")
    for marker in ("Traceback", "at Object.", '{"error"', "undefined", "[object Object]"):
        assert marker not in text, f"{marker!r} shown in the page:\n{text[:2000]}"


def drop_files(page: Any, selector: str, files: list[tuple[str, str, bytes]]) -> None:
    """Drop files onto ``selector`` as a person would drag them in: a DataTransfer with Files."""
    import base64

    payload = [{"name": n, "type": t, "b64": base64.b64encode(b).decode()} for n, t, b in files]
    transfer = page.evaluate_handle("""(files) => {
        const dt = new DataTransfer();
        for (const f of files) {
            const bytes = Uint8Array.from(atob(f.b64), c => c.charCodeAt(0));
            dt.items.add(new File([bytes], f.name, {type: f.type}));
        }
        return dt;
    }""", payload)
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})
