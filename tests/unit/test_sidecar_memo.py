"""sidecar.memo.IdentityMemo: by identity, never by equality; bounded."""

from __future__ import annotations

from dataclasses import dataclass

from sidecar.memo import IdentityMemo


@dataclass(frozen=True)
class Box:
    value: int


def test_same_object_is_computed_once_an_equal_one_again() -> None:
    calls: list[Box] = []

    def compute(box: Box) -> int:
        calls.append(box)
        return box.value * 2

    memo = IdentityMemo(compute)
    a, equal = Box(1), Box(1)
    assert memo(a) == 2 and memo(a) == 2
    assert calls == [a]
    assert memo(equal) == 2
    assert len(calls) == 2 and calls[1] is equal  # equal but not the same object: computed


def test_entries_hold_their_objects_and_the_memo_stays_bounded() -> None:
    memo: IdentityMemo[Box, int] = IdentityMemo(lambda box: box.value, size=4)
    for i in range(10):
        assert memo(Box(i)) == i  # each Box dies after the call unless the memo holds it
    assert len(memo) <= 4
    kept = Box(42)
    assert memo(kept) == 42 and memo(kept) == 42
