"""Run photo sidecars as real subprocesses for integration tests and benchmarks.

A sidecar needs the Consul agent that ``make up`` started: it serves only mutual TLS, with
its Connect identity (fetched with an ACL token from ``.state/consul/tokens/``), asks the
agent's intentions about every caller, and publishes its serving certificate in its Consul
registration, where clients find it. Each test sidecar registers under a name of its own
(``photo-sidecar-test-*``, the tests' token); ``start`` returns once Consul lists it. Its
health check answers on a plaintext loopback port of its own; :func:`serving` asks there.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
CONSUL_ADDR = os.environ.get("PHOTOSTACK_TEST_CONSUL_ADDR", "127.0.0.1:8500")
CONSUL_STATE = Path(os.environ.get("PHOTOSTACK_TEST_CONSUL_STATE", ROOT / ".state" / "consul"))


def token_file(service: str, state: Path | None = None) -> Path:
    """Where ``make up`` keeps the Consul ACL token of ``service`` (infra/consul/acl.py)."""
    path = (state or CONSUL_STATE) / "tokens" / f"{service}.token"
    if not path.exists():
        raise RuntimeError(f"no Consul token for {service} at {path}: run `make up`")
    return path


def sidecar_token_file(service: str, state: Path | None = None) -> Path:
    """The stack's sidecar registers as photo-sidecar; a test's own sidecars use the tests' token."""
    return token_file("photo-sidecar" if service == "photo-sidecar" else "photostack-tests", state)


def allow_as_sidecar(service: str, consul_addr: str = CONSUL_ADDR, state: Path | None = None) -> None:
    """Give a test's own sidecar name the same intentions as photo-sidecar (the tests' token may)."""
    import requests

    from infra.consul.acl import INTENTIONS

    token = token_file("photostack-tests", state).read_text().strip()
    reply = requests.put(f"http://{consul_addr}/v1/config", json={**INTENTIONS, "Name": service}, timeout=5,
                         headers={"X-Consul-Token": token})
    reply.raise_for_status()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serving(health_address: str, timeout_s: float = 0.5) -> bool:
    with grpc.insecure_channel(health_address) as ch:
        try:
            reply = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=timeout_s)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


class SidecarProcess:
    def __init__(
        self,
        *,
        port: int | None = None,
        consul_addr: str = CONSUL_ADDR,
        register: bool = True,
        workers: int = 4,
        service: str = "",
        consul_state: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        # A name of its own, so the stack's photo-sidecar neither helps nor gets in the way.
        self.service = service or f"photo-sidecar-test-{uuid.uuid4().hex[:8]}"
        self.port = port or free_port()
        self.health_port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.health_address = f"127.0.0.1:{self.health_port}"
        self.consul_addr = consul_addr
        self.consul_state = consul_state
        self.register = register
        self.workers = workers
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 20.0) -> SidecarProcess:
        if self.service != "photo-sidecar":
            allow_as_sidecar(self.service, self.consul_addr, self.consul_state)
        env = {**os.environ, "PHOTOSTACK_LOG_LEVEL": "WARNING",
               "PHOTOSTACK_CONSUL_TOKEN_FILE": str(sidecar_token_file(self.service, self.consul_state)),
               **self.env}
        env.pop("PHOTOSTACK_CONSUL_TOKEN", None)
        args = [sys.executable, "-m", "sidecar", "--port", str(self.port),
                "--health-port", str(self.health_port), "--consul", self.consul_addr,
                "--workers", str(self.workers), "--service", self.service, "--grace", "2"]
        if not self.register:
            args.append("--no-register")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sidecar exited with {self.proc.returncode}")
            if serving(self.health_address) and (not self.register or self.listed()):
                return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("sidecar did not become healthy")

    def listed(self) -> bool:
        """Consul lists this instance as healthy, with its serving certificate."""
        from photostack.discovery import ServiceResolver

        token = token_file("photostack-tests", self.consul_state).read_text().strip()
        resolver = ServiceResolver(self.service, consul_addr=self.consul_addr, static_addr="", ttl_s=0,
                                   token=token)
        try:
            return self.address in resolver.instances() and resolver.pinned(self.address) is not None
        except Exception:
            return False

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM: graceful shutdown (drain, deregister)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
