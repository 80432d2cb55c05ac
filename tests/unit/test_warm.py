from __future__ import annotations

import pytest
from photostack.warm import WarmSlot

pytestmark = pytest.mark.unit


def test_builds_once_and_keeps_the_instance() -> None:
    built: list[object] = []

    def build() -> object:
        built.append(object())
        return built[-1]

    slot: WarmSlot[object] = WarmSlot("thing", build)
    assert slot.get() is slot.get()
    assert len(built) == 1


def test_install_replaces_without_closing_and_reset_closes_what_was_built() -> None:
    closed: list[str] = []
    slot: WarmSlot[str] = WarmSlot("thing", lambda: "built", close=closed.append)
    assert slot.get() == "built"
    slot.install("installed")
    assert slot.get() == "installed"
    assert closed == []
    slot.reset()
    assert closed == ["installed"]
    assert slot.get() == "built"
