"""Web app benchmark: time to the first thumbnail of an event, 500 photos beside 50, in Chromium.

    .venv/bin/python -m tests.bench web      (or through `make bench`; needs the deployed stack)

A photographer's event is filled through the API the normal way (POST /uploads, presigned PUT,
processing by the upload function) with small generated JPEGs until every photo is ready. A
customer then signs up in the browser, and the clock runs from opening the event's link to the
first thumbnail decoded on the page (an <img> complete with a natural width). The 50-photo event
is the reference, measured in the same run; each figure is the median of three page loads.
"""

from __future__ import annotations

import io
import json
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# What pytest's pythonpath gives the e2e helpers this reuses (pyproject.toml).
for extra in (ROOT, ROOT / "layers" / "core" / "python", ROOT / "functions" / "transactions",
              ROOT / "functions" / "users", ROOT / "cli"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from PIL import Image  # noqa: E402

from tests.bench.bench_upload import index_drained_row  # noqa: E402
from tests.e2e.journey_support import Apis, create_event, person, reserve, send, wait_processed  # noqa: E402
from tests.e2e.web.conftest import CHROMIUM, DESKTOP, FLAGS, sign_up  # noqa: E402

STACK_OUTPUTS = ROOT / ".state" / "stack-outputs.json"
SIZES = (50, 500)
LOADS = 3
FIRST_THUMBNAIL = ("() => [...document.querySelectorAll('img')]"
                   ".some(i => i.complete && i.naturalWidth > 0)")


def small_jpeg(seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (320, 240), tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def filled_event(apis: Apis, photographer: Any, photos: int) -> str:
    event_id = create_event(apis, photographer, f"Bench: {photos} photos")

    def one(i: int) -> str:
        upload = reserve(apis, photographer, event_id, small_jpeg(photos * 10_000 + i), "image/jpeg")
        send(apis, photographer, upload)
        return upload.photo_id

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(one, range(photos)))
    done = wait_processed(apis, photographer, ids, timeout_s=1800)
    ready = sum(1 for p in done.values() if p["status"] == "ready")
    if ready != photos:
        raise RuntimeError(f"only {ready} of {photos} photos became ready")
    return event_id


def first_thumbnail_ms(browser: Any, web_url: str, event_id: str) -> float:
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        sign_up(page, web_url, role="customer", name="Bench customer")
        page.wait_for_timeout(500)
        times = []
        for _ in range(LOADS):
            page.goto("about:blank")
            started = time.perf_counter()
            page.goto(f"{web_url}#/events/{event_id}")
            page.wait_for_function(FIRST_THUMBNAIL)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)
    finally:
        context.close()


def run() -> list[tuple[str, str]]:
    from playwright.sync_api import sync_playwright

    stack = json.loads(STACK_OUTPUTS.read_text())
    apis = Apis.of(stack)
    photographer = person(apis, "photographer")
    events = {n: filled_event(apis, photographer, n) for n in SIZES}
    # The photos queued index notices (faces + bibs). Waiting for them here keeps the indexer off
    # the CPU while the pages load, and leaves nothing behind: this bench runs last in `make bench`,
    # and a `make test` right after found its own photos queued behind ~360 of them (102 s).
    drained = index_drained_row(stack, sum(SIZES))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            figures = {n: first_thumbnail_ms(browser, stack["WebUrl"], events[n]) for n in SIZES}
        finally:
            browser.close()
    rows = [(f"web: first thumbnail, event of {n} photos (median of {LOADS} loads)",
             f"{figures[n]:.0f} ms" + ("" if n == SIZES[0] else f"  (reference: {SIZES[0]} photos "
                                                                 f"{figures[SIZES[0]]:.0f} ms)"))
            for n in SIZES]
    return [*rows, drained]


if __name__ == "__main__":
    for metric, value in run():
        print(f"{metric:<68} {value}")
