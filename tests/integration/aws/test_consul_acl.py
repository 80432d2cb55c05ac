"""infra/aws/consul_acl.py against a real Consul agent configured as the ECS servers are: ACLs on,
deny by default, Connect on, and no token at all until the task bootstraps them.

A private agent on free ports (the stack's agent is never touched); the secret is an in-memory
store with the same two operations as the Secrets Manager adapter (tested on its own in
tests/unit/aws).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.aws import consul_acl
from infra.consul import acl
from tests.consul_agent import start_dev_agent, stop_agent
from tests.sidecar_process import free_port

pytestmark = pytest.mark.integration

# What infra/aws/infra.yaml gives the servers (-hcl), minus what only a cluster needs.
SERVER_HCL = ('acl { enabled = true default_policy = "deny" down_policy = "extend-cache" } '
              "connect { enabled = true }")


class ServerAgent:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> ServerAgent:
        self.proc = start_dev_agent(self.port, f"photostack-aws-test-{self.port}",
                                    self.folder / f"consul-{self.port}.log", ["-hcl", SERVER_HCL], timeout_s)
        return self

    def call(self, token: str, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"http://{self.addr}{path}", json=body, timeout=10,
                                headers={"X-Consul-Token": token})

    def stop(self) -> None:
        stop_agent(self.proc)
        self.proc = None


class MemorySecret:
    def __init__(self, value: str) -> None:
        self.value = value
        self.writes = 0

    def read(self) -> str:
        return self.value

    def write(self, value: str) -> None:
        self.value = value
        self.writes += 1


@pytest.fixture
def agents(tmp_path: Path) -> Iterator[list[ServerAgent]]:
    started: list[ServerAgent] = []
    yield started
    for agent in started:
        agent.stop()


def check_tokens_work(agent: ServerAgent, document: dict[str, Any]) -> None:
    management = document[consul_acl.MANAGEMENT]
    assert agent.call(management, "GET", "/v1/acl/token/self").status_code == 200
    photos = document["photostack-photos"]
    # A function's token finds the sidecar, and may write nothing else.
    assert agent.call(photos, "GET", f"/v1/health/service/{acl.SIDECAR}?passing=1").status_code == 200
    assert agent.call(photos, "PUT", "/v1/kv/anything", "x").status_code == 403
    assert agent.call("", "GET", "/v1/acl/token/self").status_code == 403
    # The intentions of the local stack: the functions may connect to the sidecar, nothing else may.
    for source, allowed in (("photostack-photos", True), ("photostack-upload", True), ("intruder", False)):
        reply = agent.call(management, "GET",
                           f"/v1/connect/intentions/check?source={source}&destination={acl.SIDECAR}")
        assert reply.json()["Allowed"] is allowed, source


def test_bootstraps_once_keeps_the_tokens_and_restores_them_on_a_cluster_that_lost_its_state(
        tmp_path: Path, agents: list[ServerAgent]) -> None:
    agents.append(ServerAgent(tmp_path).start())
    secret = MemorySecret("{}")

    first = consul_acl.run(agents[0].addr, secret)
    stored = json.loads(secret.value)
    assert {k: stored[k] for k in first} == first
    assert json.loads(stored[consul_acl.CLIENT_CONFIG])["acl"]["tokens"]["agent"] == first[consul_acl.AGENT]
    check_tokens_work(agents[0], first)

    # Again: nothing new stored, the same tokens.
    assert consul_acl.run(agents[0].addr, secret) == first
    assert secret.writes == 1

    # All servers replaced at once (a fresh agent, no state): the stored tokens come back as they were.
    agents[0].stop()
    agents.append(ServerAgent(tmp_path).start())
    assert consul_acl.run(agents[1].addr, secret) == first
    assert secret.writes == 1
    check_tokens_work(agents[1], first)


def test_a_cluster_bootstrapped_with_another_token_is_refused_with_what_to_do(
        tmp_path: Path, agents: list[ServerAgent]) -> None:
    agents.append(ServerAgent(tmp_path).start())
    assert agents[0].call("", "PUT", "/v1/acl/bootstrap").status_code == 200  # someone else's token
    with pytest.raises(SystemExit, match="bootstrapped with another token"):
        consul_acl.run(agents[0].addr, MemorySecret("{}"))
