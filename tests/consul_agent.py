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
        binary = subprocess.run(["bash", str(ROOT / "infra" / "consul" / "build.sh")], check=True,
                                capture_output=True, text=True).stdout.strip().splitlines()[-1]
        acl.init(self.state)
        ports = {"-grpc-port": free_port(), "-grpc-tls-port": free_port(), "-server-port": free_port(),
                 "-serf-lan-port": free_port(), "-serf-wan-port": free_port(), "-dns-port": free_port()}
        args = [binary, "agent", "-dev", "-bind", "127.0.0.1", "-client", "127.0.0.1",
                "-http-port", str(self.http_port), "-node", f"photostack-test-{self.http_port}",
                "-config-file", str(ROOT / "infra" / "consul" / "dev.hcl"),
                "-config-file", str(self.state / "acl.hcl")]
        for flag, port in ports.items():
            args += [flag, str(port)]
        log = (self.state / "consul.log").open("wb")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if ":" in requests.get(f"http://{self.addr}/v1/status/leader", timeout=1).text:
                    break
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"private consul agent did not start; see {self.state / 'consul.log'}")
            time.sleep(0.3)
        acl.apply(self.state, self.addr)
        return self

    def management(self, method: str, path: str, body: Any = None) -> Any:
        token = (self.state / "management.token").read_text().strip()
        reply = requests.request(method, f"http://{self.addr}{path}", json=body, timeout=10,
                                 headers={"X-Consul-Token": token})
        reply.raise_for_status()
        return reply.json() if reply.content else None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
