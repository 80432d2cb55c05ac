"""A private Consul dev agent for tests that change Consul itself (CA rotation).

Started from the same config as the stack's agent (infra/consul/dev.hcl plus the generated
ACL file, infra/consul/acl.py init/apply) on free ports, with its own state folder, so the
shared agent that `make up` started is never touched.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import requests

from infra.consul import acl
from tests.sidecar_process import ROOT, free_port


class ConsulAgent:
    def __init__(self, state: Path) -> None:
        self.state = state
        self.http_port = free_port()
        self.addr = f"127.0.0.1:{self.http_port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> ConsulAgent:
        acl.init(self.state)
        self.proc = start_dev_agent(
            self.http_port, f"photostack-test-{self.http_port}", self.state / "consul.log",
            ["-config-file", str(ROOT / "infra" / "consul" / "dev.hcl"),
             "-config-file", str(self.state / "acl.hcl")], timeout_s)
        acl.apply(self.state, self.addr)
        return self

    def management(self, method: str, path: str, body: Any = None) -> Any:
        token = (self.state / "management.token").read_text().strip()
        reply = requests.request(method, f"http://{self.addr}{path}", json=body, timeout=10,
                                 headers={"X-Consul-Token": token})
        reply.raise_for_status()
        return reply.json() if reply.content else None

    def stop(self) -> None:
        stop_agent(self.proc)
        self.proc = None


def start_dev_agent(http_port: int, node: str, log_path: Path, config_args: list[str],
                    timeout_s: float = 60.0) -> subprocess.Popen[bytes]:
    """A Consul dev agent on loopback: HTTP on ``http_port``, every other port free; returns once
    it has a leader (or raises with where its log is)."""
    binary = subprocess.run(["bash", str(ROOT / "infra" / "consul" / "build.sh")], check=True,
                            capture_output=True, text=True).stdout.strip().splitlines()[-1]
    args = [binary, "agent", "-dev", "-bind", "127.0.0.1", "-client", "127.0.0.1",
            "-http-port", str(http_port), "-node", node, *config_args]
    for flag in ("-grpc-port", "-grpc-tls-port", "-server-port", "-serf-lan-port", "-serf-wan-port",
                 "-dns-port"):
        args += [flag, str(free_port())]
    proc = subprocess.Popen(args, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if ":" in requests.get(f"http://127.0.0.1:{http_port}/v1/status/leader", timeout=1).text:
                return proc
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_agent(proc)
            raise RuntimeError(f"private consul agent did not start; see {log_path}")
        time.sleep(0.3)


def stop_agent(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
