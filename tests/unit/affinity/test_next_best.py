"""Next-best items per customer, checked by hand."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

import ibis
import pandas as pd
import pytest

from lealta.affinity.next_best import next_best
from lealta.affinity.options import AffinityOptions
from lealta.engines import connect

T0 = dt.datetime(2024, 3, 1)


def table(rows: list[tuple[Any, ...]], columns: list[str]) -> Any:
    return ibis.memtable(pd.DataFrame(rows, columns=columns))


LINES = table(
    [
        ("ann", "o1", T0, "tee"),
        ("ann", "o2", T0, "jeans"),
        ("bob", "o3", T0, "tee"),
        ("bob", "o4", T0, "shoes"),
        ("cyd", "o5", T0, "hat"),
    ],
    ["customer_id", "basket", "ts", "item"],
)
# sequence rules A -> B with their confidence
RULES = table(
    [
        ("tee", "shoes", 0.5),
        ("jeans", "shoes", 0.25),
        ("tee", "socks", 0.6),
        ("tee", "jeans", 0.4),
        ("jeans", "belt", 0.6),
        ("shoes", "tee", 0.9),
    ],
    ["item_a", "item_b", "confidence"],
)


def ranked(options: AffinityOptions) -> dict[str, list[tuple[str, float]]]:
    found: dict[str, list[tuple[str, float]]] = {}
    for row in connect("duckdb").rows(next_best(LINES, RULES, options)):
        found.setdefault(row["customer_id"], []).append((row["item"], row["score"]))
        assert row["rank"] == len(found[row["customer_id"]])
    return found


def test_next_best_sums_the_confidences_and_leaves_out_what_is_held() -> None:
    found = ranked(AffinityOptions(top=5))
    # ann holds tee, jeans: shoes 0.5 + 0.25 = 3/4; belt 0.6 and socks 0.6 (tie: alphabetical);
    # jeans is held, so "tee -> jeans" suggests nothing
    assert found["ann"] == [
        ("shoes", pytest.approx(float(Fraction(3, 4)))),
        ("belt", pytest.approx(0.6)),
        ("socks", pytest.approx(0.6)),
    ]
    # bob holds tee, shoes: socks 0.6, jeans 0.4 (tee held, so "shoes -> tee" is out)
    assert found["bob"] == [("socks", pytest.approx(0.6)), ("jeans", pytest.approx(0.4))]
    assert "cyd" not in found  # no rule starts from a hat


def test_next_best_keeps_the_top_items_and_can_take_the_max() -> None:
    assert [item for item, _ in ranked(AffinityOptions(top=1))["ann"]] == ["shoes"]
    by_max = ranked(AffinityOptions(top=5, score="max"))["ann"]
    # max: belt 0.6, socks 0.6, shoes max(0.5, 0.25) = 0.5
    assert by_max == [
        ("belt", pytest.approx(0.6)),
        ("socks", pytest.approx(0.6)),
        ("shoes", pytest.approx(0.5)),
    ]


def test_only_each_items_strongest_rules_count() -> None:
    found = ranked(AffinityOptions(top=5, rules_per_item=1))
    # tee's strongest rule: socks 0.6; jeans': belt 0.6; shoes': tee (held by bob)
    assert found["ann"] == [("belt", pytest.approx(0.6)), ("socks", pytest.approx(0.6))]
    assert found["bob"] == [("socks", pytest.approx(0.6))]
