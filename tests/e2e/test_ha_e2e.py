"""High availability: `make up` runs two photo sidecars, and losing one under load fails nothing.

Readers page an event through API Gateway from several threads while one instance is killed
with SIGKILL (no deregistration: Consul still lists it until its health check fails). Every
request must still answer 200: the photo client meets UNAVAILABLE, forgets the instance, asks
Consul again and uses the other one, inside the call's deadline. Then the instance comes back.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.e2e.journey_support import (
    SIDECAR_INSTANCES,
    TIMEOUT,
    Apis,
    _services,
    create_event,
    person,
    wait_sidecars_listed,
)

pytestmark = pytest.mark.e2e

RUN = Path(__file__).resolve().parents[2] / ".state" / "run"


def instance_pid(n: int) -> int:
    name = "sidecar" if n == 1 else f"sidecar{n}"
    return int((RUN / f"{name}.pid").read_text().strip())


def test_losing_one_sidecar_under_load_fails_no_request(stack: dict[str, str]) -> None:
    assert SIDECAR_INSTANCES >= 2, "make up runs two sidecar instances by default"
    apis = Apis.of(stack)
    photographer = person(apis, "photographer")
    event_id = create_event(apis, photographer, "HA: lose one sidecar")
    url = f"{apis.photos}/events/{event_id}/photos"
    statuses: Counter[int] = Counter()
    stop = threading.Event()
    lock = threading.Lock()

    def reader() -> None:
        while not stop.is_set():
            try:
                status = requests.get(url, headers=photographer.headers, timeout=TIMEOUT).status_code
            except requests.RequestException:
                status = 0
            with lock:
                statuses[status] += 1

    for victim in (2, 1):
        readers = [threading.Thread(target=reader) for _ in range(4)]
        for t in readers:
            t.start()
        try:
            time.sleep(2)
            os.kill(instance_pid(victim), signal.SIGKILL)
            time.sleep(6)  # Consul notices within its 1 s check; the load goes on meanwhile
        finally:
            stop.set()
            for t in readers:
                t.join()
            stop.clear()
            _services("up", "sidecar")  # brings the killed instance back (the other is left alone)
            wait_sidecars_listed()

    assert statuses[200] > 40, statuses
    assert set(statuses) == {200}, f"requests failed while one instance was lost: {statuses}"
