"""How long the resolver believes an answer: a full one for its TTL, "none" only for a moment."""

from __future__ import annotations

import pytest
from photostack.discovery import EMPTY_TTL_S, NoInstances, ServiceResolver

pytestmark = pytest.mark.unit


class ScriptedResolver(ServiceResolver):
    """Consul's answers, in order, without a Consul agent (the clock is the test's)."""

    def __init__(self, answers: list[list[str]]) -> None:
        self.now = 0.0
        super().__init__("photo-sidecar", consul_addr="127.0.0.1:1", static_addr="", ttl_s=3.0,
                         clock=lambda: self.now)
        self.answers = answers
        self.lookups = 0

    def _lookup(self) -> list[str]:
        self.lookups += 1
        return self.answers.pop(0)


def test_a_full_answer_is_cached_for_the_ttl() -> None:
    r = ScriptedResolver([["127.0.0.1:1"], ["127.0.0.1:2"]])
    assert r.pick() == "127.0.0.1:1"
    r.now += 2.9
    assert r.pick() == "127.0.0.1:1" and r.lookups == 1
    r.now += 0.2
    assert r.pick() == "127.0.0.1:2" and r.lookups == 2


def test_no_instance_is_believed_only_for_a_moment() -> None:
    r = ScriptedResolver([[], ["127.0.0.1:7"]])
    with pytest.raises(NoInstances):
        r.pick()
    r.now += EMPTY_TTL_S + 0.01  # far inside the 3 s TTL of a full answer
    assert r.pick() == "127.0.0.1:7"


def test_forgetting_the_last_instance_does_not_hide_its_return() -> None:
    r = ScriptedResolver([["127.0.0.1:7"], ["127.0.0.1:7"]])
    r.forget(r.pick())
    r.now += EMPTY_TTL_S + 0.01
    assert r.pick() == "127.0.0.1:7" and r.lookups == 2
