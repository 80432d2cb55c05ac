"""Two sidecars found through the real Consul agent: lose one, lose both, get them back.

Each test registers its sidecars under a service name of its own, so the stack's
own `photo-sidecar` (started by `make up`) neither helps nor gets in the way.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from photostack.discovery import ServiceResolver

from tests.sidecar_process import CONSUL_ADDR, SidecarProcess, token_file

pytestmark = pytest.mark.integration

DEADLINE_S = 2.0  # PHOTOSTACK_GRPC_DEADLINE_MS's default


def healthy(service: str) -> list[str]:
    token = token_file("photostack-photos").read_text().strip()
    return ServiceResolver(service, consul_addr=CONSUL_ADDR, static_addr="", ttl_s=0, token=token).instances()


def wait_for(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)


@pytest.fixture
def pair(photos_schema: None) -> Iterator[tuple[SidecarProcess, SidecarProcess]]:
    service = f"photo-sidecar-test-{uuid.uuid4().hex[:8]}"
    a = SidecarProcess(register=True, service=service).start()
    b = SidecarProcess(register=True, service=service).start()
    try:
        wait_for(lambda: {a.address, b.address} <= set(healthy(service)))
        yield a, b
    finally:
        for proc in (a, b):
            if proc.proc is None:
                proc.start()  # so that a killed instance leaves Consul now, not in 30 s
            proc.stop()


def test_registration_and_graceful_deregistration(pair: tuple[SidecarProcess, SidecarProcess]) -> None:
    a, b = pair
    a.stop()
    # Deregistered on shutdown, not merely failing its health check.
    assert a.address not in healthy(a.service)
    assert b.address in healthy(a.service)


def test_lose_one_lose_both_recover(api_for, pair: tuple[SidecarProcess, SidecarProcess]) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    api = api_for(service=a.service)
    user = (f"p-{uuid.uuid4().hex[:8]}", "photographer")
    event = api.call("POST", "/events", {"name": "Failover", "date": "2025-06-01"}, user=user).body

    def get() -> int:
        return int(api.call("GET", f"/events/{event['id']}/photos", user=user).status)

    assert [get() for _ in range(6)] == [200] * 6

    # Killed without deregistering: Consul still lists it for a moment; the client
    # retries on the other instance, so no call fails.
    a.kill()
    assert [get() for _ in range(20)] == [200] * 20

    b.stop()
    for _ in range(3):
        start = time.monotonic()
        r = api.call("GET", f"/events/{event['id']}/photos", user=user)
        assert r.status == 503 and r.body["error"]["code"] == "service_unavailable"
        # The client looks for an instance until its deadline (2 s), never longer.
        assert time.monotonic() - start < DEADLINE_S + 0.75

    # Back on the same ports, registered again: calls succeed without rebuilding anything.
    a.start()
    b.start()
    wait_for(lambda: {a.address, b.address} <= set(healthy(a.service)))
    wait_for(lambda: get() == 200, timeout_s=10)
    assert [get() for _ in range(6)] == [200] * 6


def test_a_call_made_while_the_only_instance_restarts_is_served_when_it_returns(
        api_for, pair: tuple[SidecarProcess, SidecarProcess]) -> None:  # type: ignore[no-untyped-def]
    """The warm environment saw "no instance" just before: it must not keep believing it."""
    a, b = pair
    api = api_for(service=a.service)
    user = (f"p-{uuid.uuid4().hex[:8]}", "photographer")
    event = api.call("POST", "/events", {"name": "Restart", "date": "2025-06-01"}, user=user).body
    path = f"/events/{event['id']}/photos"
    a.stop()
    b.stop()
    down = api.call("GET", path, user=user)
    assert down.status == 503, down.body  # and the environment has now seen Consul answer "none"

    a.start()
    wait_for(lambda: a.address in healthy(a.service), timeout_s=10)
    # Consul lists it again: the very next call is served, with no cache to wait out.
    start = time.monotonic()
    back = api.call("GET", path, user=user)
    assert back.status == 200, back.body
    assert time.monotonic() - start < 1.0
