"""gRPC channels kept across warm invocations, one per address, bounded and resettable.

Every channel is mutual TLS: it presents this process's Consul Connect leaf
(:mod:`photostack.rpc.connect`) and trusts, for the server, exactly the serving certificates
that Consul lists for that instance (``photostack.discovery.pin_meta``), with the service's
name checked. A channel belongs to one address *and* one set of certificates: when they
change (renewal, CA rotation) the next call builds a new channel, so rotation needs no
restart. The old one is left to the bound (closing it could cut a call still in flight on
another thread) and closes when it is the least recently used.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import grpc

from photostack.rpc.connect import Material

MAX_CHANNELS = 16

# Reconnect quickly after an instance comes back, instead of gRPC's default
# backoff that grows to two minutes and would keep a recovered instance unused.
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
    ("grpc.enable_retries", 0),
]

_channels: OrderedDict[tuple[str, str], grpc.Channel] = OrderedDict()
_lock = threading.Lock()


def credentials(material: Material, server_pins: bytes) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(root_certificates=server_pins, private_key=material.key_pem,
                                        certificate_chain=material.cert_pem)


def options(server_name: str) -> list[tuple[str, object]]:
    """Channel options; the server's certificate must name ``server_name`` (its Consul service)."""
    return [*CHANNEL_OPTIONS, ("grpc.ssl_target_name_override", server_name)]


def secure_channel(address: str, material: Material, server_pins: bytes, server_name: str) -> grpc.Channel:
    return grpc.secure_channel(address, credentials(material, server_pins), options=options(server_name))


def channel(address: str, material: Material, server_pins: bytes, server_name: str) -> grpc.Channel:
    key = (address, f"{material.fingerprint}:{hashlib.sha256(server_pins).hexdigest()[:16]}:{server_name}")
    with _lock:
        found = _channels.get(key)
        if found is not None:
            _channels.move_to_end(key)
            return found
        created = secure_channel(address, material, server_pins, server_name)
        _channels[key] = created
        while len(_channels) > MAX_CHANNELS:
            _, oldest = _channels.popitem(last=False)
            oldest.close()
        return created


def forget(address: str) -> None:
    """Close the channels to ``address`` (it failed: the next call connects afresh, no backoff)."""
    with _lock:
        for key in [k for k in _channels if k[0] == address]:
            _channels.pop(key).close()


def reset_channels() -> None:
    """Close every channel (tests; a warm container never needs to)."""
    with _lock:
        for ch in _channels.values():
            ch.close()
        _channels.clear()
