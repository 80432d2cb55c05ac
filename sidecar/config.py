"""The sidecar's own settings, read once at start; the shared ones are photostack.config's.

PHOTOSTACK_SIDECAR_HEALTH_PORT   plaintext loopback port of the health check (default 0: any free port)
"""

from __future__ import annotations

from dataclasses import dataclass

from photostack.config import env_int


@dataclass(frozen=True)
class SidecarSettings:
    health_port: int


def load_sidecar_settings() -> SidecarSettings:
    return SidecarSettings(health_port=env_int("PHOTOSTACK_SIDECAR_HEALTH_PORT", 0, minimum=0))
