"""Identities for tests that call the photo sidecar: Connect certificates and user tokens.

The sidecar trusts only verified credentials, so a test calls it as a photostack service
(its Consul Connect leaf, fetched with that service's token from ``.state/consul/tokens/``),
trusts the serving certificate Consul lists for it, and, for a person's methods, sends that
person's real access token.

    client = photo_client(sidecar, service="photostack-photos")
    client.create_event(pb.CreateEventRequest(name=...), user=person("p-1", "photographer"))
    stub = pb_grpc.PhotoServiceStub(secure_channel(sidecar, "photostack-upload"))
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import grpc
import pytest
from photostack.discovery import ServiceResolver
from photostack.photo_client import PhotoClient
from photostack.rpc import channels
from photostack.rpc.client import user_metadata
from photostack.rpc.connect import ConnectAgent, ConnectIdentity
from photostack.tokens import Principal, issue_access_token, verify_access_token

from tests.sidecar_process import CONSUL_ADDR, token_file


class SidecarRef(Protocol):
    """A sidecar as tests know it: a SidecarProcess, or the stack's (STACK_SIDECAR)."""

    @property
    def service(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def consul_addr(self) -> str: ...
    @property
    def consul_state(self) -> Path | None: ...


@dataclass(frozen=True)
class StackSidecar:
    service: str = "photo-sidecar"
    address: str = "127.0.0.1:15051"
    consul_addr: str = CONSUL_ADDR
    consul_state: Path | None = None


STACK_SIDECAR = StackSidecar()  # the one `make up` starts


@functools.cache
def connect_identity(service: str, consul_addr: str = CONSUL_ADDR,
                     state: Path | None = None) -> ConnectIdentity:
    return ConnectIdentity(ConnectAgent(consul_addr, token_file(service, state).read_text().strip()), service)


def resolver(sidecar: SidecarRef, reader: str = "photostack-photos") -> ServiceResolver:
    """Where Consul says ``sidecar`` is, read with a function's token (as that function would)."""
    token = token_file(reader, sidecar.consul_state).read_text().strip()
    return ServiceResolver(sidecar.service, consul_addr=sidecar.consul_addr, static_addr="", token=token)


def secure_channel(sidecar: SidecarRef, service: str) -> grpc.Channel:
    """A channel to ``sidecar`` presenting ``service``'s Connect certificate (close it when done)."""
    where = resolver(sidecar)
    assert sidecar.address in where.instances()
    pins = where.pinned(sidecar.address)
    assert pins is not None
    material = connect_identity(service, sidecar.consul_addr, sidecar.consul_state).current()
    return channels.secure_channel(sidecar.address, material, pins, sidecar.service)


def photo_client(sidecar: SidecarRef, service: str = "photostack-photos", *,
                 deadline_s: float = 5.0) -> PhotoClient:
    return PhotoClient(resolver(sidecar), deadline_s=deadline_s,
                       identity=connect_identity(service, sidecar.consul_addr, sidecar.consul_state))


def person(user_id: str, role: str) -> Principal:
    """A verified principal with a real access token (signed with the current key)."""
    token, _ = issue_access_token(user_id, role)
    return verify_access_token(token)


def bearer(user: Principal) -> tuple[tuple[str, str], ...]:
    """gRPC metadata of a call on ``user``'s behalf (for raw stubs)."""
    metadata = user_metadata(user)
    assert metadata is not None
    return metadata


def use_identity(monkeypatch: pytest.MonkeyPatch, service: str, consul_addr: str = CONSUL_ADDR) -> None:
    """Make this process the function ``service`` for get_photo_client() (as template.yaml does)."""
    monkeypatch.setenv("PHOTOSTACK_CONNECT_SERVICE", service)
    monkeypatch.setenv("PHOTOSTACK_CONSUL_ADDR", consul_addr)
    monkeypatch.setenv("PHOTOSTACK_CONSUL_TOKEN_FILE", str(token_file(service)))
    monkeypatch.delenv("PHOTOSTACK_CONSUL_TOKEN", raising=False)
