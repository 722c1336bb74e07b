"""The set-wise figures equal a plain Python count of the definitions, on random baskets."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from itertools import permutations
from typing import Any

import ibis
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lealta.affinity.options import AffinityOptions
from lealta.affinity.pairs import in_sequence, together
from lealta.engines import connect

T0 = dt.datetime(2024, 1, 1)
quick = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# (customer, order, day, item): few values, so that pairs repeat and days tie
line = st.tuples(
    st.sampled_from("abcd"), st.integers(0, 6), st.integers(0, 20), st.sampled_from("pqrst")
)
lines_strategy = st.lists(line, min_size=1, max_size=40)
Rows = list[tuple[str, int, int, str]]


def table(rows: Rows) -> Any:
    # an order belongs to one customer: the order key carries the customer
    frame = pd.DataFrame(
        [(c, f"{c}{o}", T0 + dt.timedelta(days=d), i) for c, o, d, i in rows],
        columns=["customer_id", "basket", "ts", "item"],
    )
    return ibis.memtable(frame)


def baskets(rows: Rows) -> dict[tuple[str, int], tuple[dt.datetime, set[str]]]:
    found: dict[tuple[str, int], tuple[dt.datetime, set[str]]] = {}
    for c, o, d, i in rows:
        moment = T0 + dt.timedelta(days=d)
        when, items = found.get((c, o), (moment, set()))
        found[(c, o)] = (min(when, moment), items | {i})
    return found


def expected_together(rows: Rows, min_count: int) -> dict[tuple[str, str], tuple[int, float]]:
    held = baskets(rows)
    n = len(held)
    count: dict[str, int] = defaultdict(int)
    both: dict[tuple[str, str], int] = defaultdict(int)
    for _, items in held.values():
        for item in items:
            count[item] += 1
        for pair in permutations(items, 2):
            both[pair] += 1
    return {
        (a, b): (n_ab, n_ab * n / (count[a] * count[b]))
        for (a, b), n_ab in both.items()
        if n_ab >= min_count and count[a] >= min_count and count[b] >= min_count
    }


def expected_sequence(
    rows: Rows, min_count: int, gap: int | None
) -> dict[tuple[str, str], tuple[int, float]]:
    first: dict[str, dict[str, dt.datetime]] = defaultdict(dict)
    for (customer, _), (when, items) in baskets(rows).items():
        for item in items:
            first[customer][item] = min(first[customer].get(item, when), when)
    n = len(first)
    count: dict[str, int] = defaultdict(int)
    goes: dict[tuple[str, str], int] = defaultdict(int)
    for bought in first.values():
        for item in bought:
            count[item] += 1
        for a, b in permutations(bought, 2):
            later = bought[b] - bought[a]
            if later > dt.timedelta(0) and (gap is None or later <= dt.timedelta(days=gap)):
                goes[(a, b)] += 1
    return {
        (a, b): (n_ab, n_ab * n / (count[a] * count[b]))
        for (a, b), n_ab in goes.items()
        if n_ab >= min_count and count[a] >= min_count and count[b] >= min_count
    }


def computed(expr: Any) -> dict[tuple[str, str], tuple[int, float]]:
    rows = connect("duckdb").rows(expr)
    return {(r["item_a"], r["item_b"]): (r["n_ab"], r["lift"]) for r in rows}


def same(got: dict[Any, tuple[int, float]], want: dict[Any, tuple[int, float]]) -> bool:
    return got.keys() == want.keys() and all(
        got[k][0] == want[k][0] and abs(got[k][1] - want[k][1]) < 1e-9 for k in got
    )


@quick
@given(lines_strategy, st.integers(1, 3))
def test_together_counts_as_the_definition_says(rows: Rows, min_count: int) -> None:
    options = AffinityOptions(min_count=min_count)
    assert same(computed(together(table(rows), options)), expected_together(rows, min_count))


@quick
@given(lines_strategy, st.integers(1, 2), st.one_of(st.none(), st.integers(1, 10)))
def test_sequence_counts_as_the_definition_says(
    rows: Rows, min_count: int, gap: int | None
) -> None:
    options = AffinityOptions(min_count=min_count, gap_days=gap)
    got = computed(in_sequence(table(rows), options))
    assert same(got, expected_sequence(rows, min_count, gap))
