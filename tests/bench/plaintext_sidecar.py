"""The photo sidecar as it was before service identity, for the identity benchmark only.

    python -m tests.bench.plaintext_sidecar PORT HEALTH_PORT

The same server, servicer, database and cache as ``python -m sidecar``, but plaintext and
trusting whoever the caller says it is (metadata ``x-bench-caller: <user id>|<role>``, as
the request's ``caller`` field used to): the "before" side of bench_identity. Never
deployed, never started by anything but that benchmark.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import grpc

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT, ROOT / "layers" / "core" / "python", ROOT / "functions" / "faces"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from photostack.config import get_settings  # noqa: E402

from sidecar import domain as d  # noqa: E402
from sidecar.identity import IdentityInterceptor  # noqa: E402
from sidecar.server import Sidecar, SidecarConfig  # noqa: E402


class AssertedCaller:
    def admit(self, method: str, context: grpc.ServicerContext) -> d.Caller | None:
        for key, value in context.invocation_metadata():
            if key == "x-bench-caller":
                user_id, _, role = str(value).partition("|")
                return d.Caller(user_id=user_id, role=role)
        return None


class PlaintextTransport:
    interceptor = IdentityInterceptor(AssertedCaller())

    def add_port(self, server: grpc.Server, address: str) -> int:
        return int(server.add_insecure_port(address))

    def refresh(self) -> bool:
        return False

    def unpublished(self) -> bool:
        return False

    def published(self) -> None:
        pass

    def pins(self) -> list[bytes]:
        return []

    def describe(self) -> dict[str, str]:
        return {"transport": "plaintext (benchmark only)"}

    def close(self) -> None:
        pass


def main() -> None:
    port, health_port = int(sys.argv[1]), int(sys.argv[2])
    settings = get_settings()
    sidecar = Sidecar(SidecarConfig(database_url=settings.database_url, redis_url=settings.redis_url,
                                    consul_addr="", register=False, port=port, health_port=health_port,
                                    workers=8), transport=PlaintextTransport())

    def on_signal(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=sidecar.stop, name="shutdown").start()

    signal.signal(signal.SIGTERM, on_signal)
    sidecar.start()
    sidecar.wait()


if __name__ == "__main__":
    main()
