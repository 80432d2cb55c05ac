"""The photo page's JSON, kept a few seconds per answer of the sidecar.

The sidecar decides everything a viewer may see of a page (visibility, the paywall, what was
bought); this function turns its answer into JSON: 50 photos presented with 100 presigned URLs
and encoded, ~0.6 ms of the warm function's CPU per page (py-spy, `ab -c 32`). The same answer
bytes give the same JSON for every viewer who owns none of its photos (an owner also gets their
photo's details, so the owner is part of the key), so the JSON is kept per (answer bytes, owner
viewing) for ``ttl_s``. Every request still asks the sidecar: a photo deleted, made private or
unlisted changes the answer, hence the key, at once. What may age is only the URLs, by at most
``ttl_s`` on top of the presigned-URL cache (photos.storage.PresignedUrls hands out URLs with at
least half their lifetime left), which is why ``ttl_s`` is a small fraction of that lifetime.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from photos.kept import KeptValues

MAX_BODIES = 32  # a 50-photo page is ~65 kB of JSON


class PageBodies(KeptValues[str]):
    def __init__(self, ttl_s: float, max_entries: int = MAX_BODIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(ttl_s, max_entries, clock)
