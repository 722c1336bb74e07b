"""Properties of scoring that must hold on any data (Hypothesis)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lealta

AS_OF = "2024-07-01"
START = dt.date(2024, 1, 1)

order = st.tuples(
    st.integers(0, 14),  # customer
    st.integers(0, 180),  # day after START
    st.integers(1, 500),  # amount in whole units: exact sums
)
orders_strategy = st.lists(order, min_size=1, max_size=60)
bins_strategy = st.integers(2, 7)
quick = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def frame(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "customer_id": [f"c{c:02d}" for c, _, _ in rows],
            "order_date": [(START + dt.timedelta(days=d)).isoformat() for _, d, _ in rows],
            "amount": [float(a) for _, _, a in rows],
        }
    )


@quick
@given(orders_strategy, bins_strategy)
def test_scores_stay_within_their_levels(rows: list[tuple[int, int, int]], bins: int) -> None:
    result = lealta.rfm(frame(rows), as_of=AS_OF, bins=bins)
    for column in ("r_score", "f_score", "m_score"):
        assert result[column].between(1, bins).all()
    assert (result.score_sum == result.r_score + result.f_score + result.m_score).all()


@quick
@given(orders_strategy)
def test_more_purchases_never_mean_a_lower_frequency_score(
    rows: list[tuple[int, int, int]],
) -> None:
    result = lealta.rfm(frame(rows), as_of=AS_OF).sort_values("frequency")
    assert result.f_score.is_monotonic_increasing
    assert result.sort_values("monetary").m_score.is_monotonic_increasing
    assert result.sort_values("recency", ascending=False).r_score.is_monotonic_increasing


@quick
@given(orders_strategy, st.integers(0, 14))
def test_buying_once_more_never_lowers_a_customers_frequency_score(
    rows: list[tuple[int, int, int]], who: int
) -> None:
    before = lealta.rfm(frame(rows), as_of=AS_OF).set_index("customer_id")
    after = lealta.rfm(frame([*rows, (who, 0, 1)]), as_of=AS_OF).set_index("customer_id")
    key = f"c{who:02d}"
    if key in before.index:
        assert after.loc[key, "f_score"] >= before.loc[key, "f_score"]


@quick
@given(orders_strategy)
def test_equal_values_share_a_score(rows: list[tuple[int, int, int]]) -> None:
    result = lealta.rfm(frame(rows), as_of=AS_OF)
    for value, score in (("recency", "r_score"), ("frequency", "f_score"), ("monetary", "m_score")):
        assert (result.groupby(value)[score].nunique() == 1).all()


@quick
@given(orders_strategy)
def test_mirrored_scale_is_the_exact_mirror(rows: list[tuple[int, int, int]]) -> None:
    high = lealta.rfm(frame(rows), as_of=AS_OF).set_index("customer_id")
    low = lealta.rfm(frame(rows), as_of=AS_OF, best=1).set_index("customer_id")
    for column in ("r_score", "f_score", "m_score"):
        assert (low[column] == 6 - high[column]).all()
    assert (low.segment == high.segment).all()


def defined_score(values: list[float], value: float, bins: int, better_high: bool) -> int:
    """The quantile score as the module docstring of ``scoring`` defines it."""
    if len(set(values)) <= 1:
        return (bins + 1) // 2
    worse = sum(1 for v in values if (v < value if better_high else v > value))
    if worse + values.count(value) == len(values):
        return bins
    return 1 + bins * worse // len(values)


@quick
@given(orders_strategy, bins_strategy, st.booleans())
def test_quantile_scores_follow_their_definition_within_each_group(
    rows: list[tuple[int, int, int]], bins: int, grouped: bool
) -> None:
    orders = frame(rows).assign(region=[f"r{c % 3}" for c, _, _ in rows])
    result = lealta.rfm(orders, as_of=AS_OF, bins=bins, group=["region"] if grouped else [])
    for _, members in result.groupby("region") if grouped else [("all", result)]:
        for value, score, better_high in (
            ("recency", "r_score", False),
            ("frequency", "f_score", True),
            ("monetary", "m_score", True),
        ):
            values = members[value].tolist()
            expected = [defined_score(values, v, bins, better_high) for v in values]
            assert members[score].tolist() == expected
