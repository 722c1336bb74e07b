"""Affinity figures checked by hand on a small basket table."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

import ibis
import pandas as pd
import pytest

from lealta.affinity.options import AffinityOptions
from lealta.affinity.pairs import in_sequence, together
from lealta.engines import connect
from lealta.errors import InvalidInput

T0 = dt.datetime(2024, 3, 1, 10, 0)


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


# Five baskets of three customers:
#   b1 (ann, day 0): tee, jeans, shoes
#   b2 (ann, day 5): tee, jeans            (tee twice: counted once in the basket)
#   b3 (bob, day 1): tee, shoes
#   b4 (bob, day 9): jeans
#   b5 (cyd, day 2): hat
BASKETS = [
    ("ann", "b1", day(0), "tee"),
    ("ann", "b1", day(0), "jeans"),
    ("ann", "b1", day(0), "shoes"),
    ("ann", "b2", day(5), "tee"),
    ("ann", "b2", day(5), "tee"),
    ("ann", "b2", day(5), "jeans"),
    ("bob", "b3", day(1), "tee"),
    ("bob", "b3", day(1), "shoes"),
    ("bob", "b4", day(9), "jeans"),
    ("cyd", "b5", day(2), "hat"),
]


def lines(rows: list[tuple[str, str, dt.datetime, str]]) -> Any:
    frame = pd.DataFrame(rows, columns=["customer_id", "basket", "ts", "item"])
    return ibis.memtable(frame)


def figures(expr: Any) -> dict[tuple[str, str], dict[str, Any]]:
    rows = connect("duckdb").rows(expr)
    return {(r["item_a"], r["item_b"]): r for r in rows}


def test_bought_together_figures_match_the_hand_count() -> None:
    pairs = figures(together(lines(BASKETS), AffinityOptions(min_count=1)))
    # n = 5 baskets; tee in b1 b2 b3 (3), jeans in b1 b2 b4 (3), shoes in b1 b3 (2), hat in b5 (1)
    tee_jeans = pairs[("tee", "jeans")]  # both in b1, b2
    assert (tee_jeans["n_ab"], tee_jeans["n_a"], tee_jeans["n_b"], tee_jeans["n"]) == (2, 3, 3, 5)
    assert tee_jeans["support"] == pytest.approx(float(Fraction(2, 5)))
    assert tee_jeans["confidence"] == pytest.approx(float(Fraction(2, 3)))
    # lift = (2/3) / (3/5) = 10/9
    assert tee_jeans["lift"] == pytest.approx(float(Fraction(10, 9)))
    tee_shoes = pairs[("tee", "shoes")]  # both in b1, b3
    assert tee_shoes["confidence"] == pytest.approx(float(Fraction(2, 3)))
    shoes_tee = pairs[("shoes", "tee")]  # 2 of the 2 shoe baskets hold a tee
    assert shoes_tee["confidence"] == pytest.approx(1.0)
    # lift = 1 / (3/5) = 5/3, the same both ways
    assert shoes_tee["lift"] == pytest.approx(float(Fraction(5, 3)))
    assert tee_shoes["lift"] == pytest.approx(float(Fraction(5, 3)))
    jeans_shoes = pairs[("jeans", "shoes")]  # only b1
    assert jeans_shoes["support"] == pytest.approx(float(Fraction(1, 5)))
    # lift = (1/3) / (2/5) = 5/6: bought together less often than by chance
    assert jeans_shoes["lift"] == pytest.approx(float(Fraction(5, 6)))
    assert not any("hat" in pair for pair in pairs)  # alone in its basket
    assert len(pairs) == 6  # three unordered pairs, both ways


def test_thresholds_drop_rare_pairs_and_rows_come_strongest_first() -> None:
    rows = connect("duckdb").rows(together(lines(BASKETS), AffinityOptions(min_count=2)))
    assert [(r["item_a"], r["item_b"]) for r in rows] == [
        ("shoes", "tee"),  # lift 5/3, n_ab 2
        ("tee", "shoes"),  # same lift and count: alphabetical
        ("jeans", "tee"),  # lift 10/9
        ("tee", "jeans"),
    ]
    by_support = connect("duckdb").rows(
        together(lines(BASKETS), AffinityOptions(min_count=1, min_support=0.3))
    )
    # support 2/5 = 0.4 passes; 1/5 = 0.2 (jeans with shoes) does not
    assert {(r["item_a"], r["item_b"]) for r in by_support} == {
        ("shoes", "tee"),
        ("tee", "shoes"),
        ("jeans", "tee"),
        ("tee", "jeans"),
    }


def test_bought_in_sequence_figures_match_the_hand_count() -> None:
    pairs = figures(in_sequence(lines(BASKETS), AffinityOptions(min_count=1)))
    # First purchases: ann tee/jeans/shoes day 0; bob tee/shoes day 1, jeans day 9; cyd hat.
    # Only bob goes on to a new item later: tee -> jeans, shoes -> jeans.
    assert set(pairs) == {("tee", "jeans"), ("shoes", "jeans")}
    tee_jeans = pairs[("tee", "jeans")]
    # n = 3 customers; tee bought by ann, bob (2); jeans by ann, bob (2)
    assert (tee_jeans["n_ab"], tee_jeans["n_a"], tee_jeans["n_b"], tee_jeans["n"]) == (1, 2, 2, 3)
    assert tee_jeans["support"] == pytest.approx(float(Fraction(1, 3)))
    assert tee_jeans["confidence"] == pytest.approx(float(Fraction(1, 2)))
    # lift = (1/2) / (2/3) = 3/4
    assert tee_jeans["lift"] == pytest.approx(float(Fraction(3, 4)))


@pytest.mark.parametrize(
    ("later", "counted"),
    [
        (dt.timedelta(days=30), True),  # exactly the gap: counts
        (dt.timedelta(days=30, seconds=1), False),  # past the gap
        (dt.timedelta(seconds=1), True),
        (dt.timedelta(0), False),  # the same moment (another basket): not a sequence
    ],
    ids=["at the gap", "past the gap", "a second later", "same moment"],
)
def test_the_sequence_gap_edges(later: dt.timedelta, counted: bool) -> None:
    rows = [("ann", "o1", T0, "tee"), ("ann", "o2", T0 + later, "shoes")]
    pairs = figures(in_sequence(lines(rows), AffinityOptions(min_count=1, gap_days=30)))
    assert (("tee", "shoes") in pairs) is counted
    assert ("shoes", "tee") not in pairs


def test_a_later_repeat_does_not_make_a_sequence_from_the_first_purchase() -> None:
    # shoes first bought on day 0 with the tee; bought again later: no tee -> shoes
    rows = [
        ("ann", "o1", day(0), "tee"),
        ("ann", "o1", day(0), "shoes"),
        ("ann", "o2", day(3), "shoes"),
    ]
    assert figures(in_sequence(lines(rows), AffinityOptions(min_count=1))) == {}


def test_basket_time_is_its_earliest_line() -> None:
    # one order whose lines carry different times is one basket: no sequence inside it
    rows = [("ann", "o1", day(0), "tee"), ("ann", "o1", day(0.5), "shoes")]
    assert figures(in_sequence(lines(rows), AffinityOptions(min_count=1))) == {}
    assert ("tee", "shoes") in figures(together(lines(rows), AffinityOptions(min_count=1)))


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"by": "brand"}, "by"),
        ({"window_days": 0}, "window"),
        ({"min_count": 0}, "min_count"),
        ({"min_support": 1.5}, "min_support"),
        ({"gap_days": -1}, "gap"),
        ({"top": 0}, "top"),
        ({"score": "mean"}, "score"),
        ({"rules_per_item": 0}, "rules_per_item"),
    ],
)
def test_bad_options_name_their_field(options: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        AffinityOptions(**options)
    assert caught.value.field == field
