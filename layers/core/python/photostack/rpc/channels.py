"""gRPC channels kept across warm invocations, one per address, bounded and resettable."""

from __future__ import annotations

import threading
from collections import OrderedDict

import grpc

MAX_CHANNELS = 16

# Reconnect quickly after an instance comes back, instead of gRPC's default
# backoff that grows to two minutes and would keep a recovered instance unused.
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.enable_retries", 0),
]

_channels: OrderedDict[str, grpc.Channel] = OrderedDict()
_lock = threading.Lock()


def channel(address: str) -> grpc.Channel:
    with _lock:
        found = _channels.get(address)
        if found is not None:
            _channels.move_to_end(address)
            return found
        created = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
        _channels[address] = created
        while len(_channels) > MAX_CHANNELS:
            _, oldest = _channels.popitem(last=False)
            oldest.close()
        return created


def reset_channels() -> None:
    """Close every channel (tests; a warm container never needs to)."""
    with _lock:
        for ch in _channels.values():
            ch.close()
        _channels.clear()
