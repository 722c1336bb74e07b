"""Table helpers shared by the analytics expressions."""

from __future__ import annotations

from typing import Any


def attach(left: Any, right: Any, keys: list[str], columns: list[str]) -> Any:
    """``left`` with ``columns`` of ``right`` added by a left join on ``keys``.

    The right side's keys are renamed before joining, so that a row of ``left`` without a
    match keeps its own key values (a join on same-named keys may fill them from the right).
    """
    renamed = right.select(
        **{f"_key_{i}": right[k] for i, k in enumerate(keys)}, **{c: right[c] for c in columns}
    )
    predicates = [left[k] == renamed[f"_key_{i}"] for i, k in enumerate(keys)]
    joined = left.left_join(renamed, predicates)
    return joined.select(*(joined[c] for c in left.columns), *(joined[c] for c in columns))
