"""A memo computes a value once per key and forgets the least recently used beyond its size."""

from __future__ import annotations

from lealta.storage.memo import Memo


def test_a_value_is_computed_once_per_key() -> None:
    memo, calls = Memo(), []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert memo.get("a", compute) == 1
    assert memo.get("a", compute) == 1
    assert memo.get("b", compute) == 2
    assert len(calls) == 2


def test_the_least_recently_used_key_is_forgotten_first() -> None:
    memo = Memo(size=2)
    memo.get("a", lambda: 1)
    memo.get("b", lambda: 2)
    memo.get("a", lambda: 99)  # used again: "b" is now the oldest
    memo.get("c", lambda: 3)
    assert len(memo) == 2
    assert memo.get("a", lambda: 99) == 1
    assert memo.get("b", lambda: 22) == 22
