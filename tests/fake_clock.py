"""A clock that a test moves by hand (``clock.now += 5``): pass it where code takes ``clock=``."""

from __future__ import annotations


class Clock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
