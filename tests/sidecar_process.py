"""Run photo sidecars as real subprocesses for integration tests and benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
CONSUL_ADDR = os.environ.get("PHOTOSTACK_TEST_CONSUL_ADDR", "127.0.0.1:8500")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serving(address: str, timeout_s: float = 0.5) -> bool:
    with grpc.insecure_channel(address) as ch:
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
        consul_addr: str = "",
        workers: int = 4,
        service: str = "photo-sidecar",
    ) -> None:
        self.service = service
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.consul_addr = consul_addr
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 15.0) -> SidecarProcess:
        env = {**os.environ, "PHOTOSTACK_LOG_LEVEL": "WARNING"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sidecar",
                "--port",
                str(self.port),
                "--consul",
                self.consul_addr,
                "--workers",
                str(self.workers),
                "--service",
                self.service,
                "--grace",
                "2",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sidecar exited with {self.proc.returncode}")
            if serving(self.address):
                return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("sidecar did not become healthy")

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
