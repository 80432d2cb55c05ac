"""``python -m sidecar --port 50051``: run the photo sidecar until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

# photostack (the shared layer) is on the path through the venv's photostack-layer.pth
# (infra/setup.sh) or PYTHONPATH (sidecar/Dockerfile).
from photostack.config import get_settings
from photostack.discovery import consul_token_from_environment

from sidecar.config import load_sidecar_settings
from sidecar.server import Sidecar, SidecarConfig


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m sidecar", description="the photostack photo sidecar")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on and to advertise")
    parser.add_argument("--port", type=int, default=50051)
    parser.add_argument("--workers", type=int, default=16, help="threads serving calls (and DB connections)")
    parser.add_argument("--health-port", type=int,
                        default=load_sidecar_settings().health_port,
                        help="plaintext loopback port for the health check only (default: "
                             "PHOTOSTACK_SIDECAR_HEALTH_PORT, or any free port)")
    parser.add_argument("--consul", default=settings.consul_addr,
                        help="the local Consul agent: Connect certificate, intentions, registration "
                             "(default: PHOTOSTACK_CONSUL_ADDR; required)")
    parser.add_argument("--pins-file", default="",
                        help="write the serving certificates here (public), for grpcurl -cacert")
    parser.add_argument("--no-register", dest="register", action="store_false",
                        help="do not register in Consul (tests that dial the address directly)")
    parser.add_argument("--service", default=settings.sidecar_service,
                        help="name to register in Consul (default: PHOTOSTACK_SIDECAR_SERVICE)")
    parser.add_argument("--grace", type=float, default=5.0, help="seconds to drain in-flight calls on stop")
    args = parser.parse_args(argv)
    if not args.consul:
        parser.error("a Consul agent is required (--consul or PHOTOSTACK_CONSUL_ADDR): the sidecar serves "
                     "only mutual TLS with its Connect certificate")

    sidecar = Sidecar(SidecarConfig(
        database_url=settings.database_url, redis_url=settings.redis_url, consul_addr=args.consul,
        consul_token=consul_token_from_environment(), register=args.register, service_name=args.service,
        host=args.host, port=args.port, health_port=args.health_port, pins_file=args.pins_file,
        workers=args.workers,
        grace_s=args.grace,
    ))

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # Stop from another thread: the handler must return for the main thread to keep waiting.
        threading.Thread(target=sidecar.stop, name="shutdown").start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sidecar.start()
    print(f"photo sidecar listening on {args.host}:{sidecar.port} (mTLS), "
          f"health on 127.0.0.1:{sidecar.health_port}", flush=True)
    sidecar.wait()


if __name__ == "__main__":
    main()
