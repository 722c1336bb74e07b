from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lealta.clustering.naming import (
    Population,
    Tertiles,
    describe_population,
    name_cluster,
    name_clusters,
)

# Recency tertiles 30/180 days, frequency 1/4 purchases, spend 20/80, payment 0/5 days late.
POPULATION = Population(
    recency=Tertiles(30.0, 180.0),
    frequency=Tertiles(1.0, 4.0),
    monetary=Tertiles(20.0, 80.0),
    payment=Tertiles(0.0, 5.0),
)


def profile(recency: float, frequency: float, monetary: float, **extra: float) -> pd.Series:
    values = {"mean_recency": recency, "mean_frequency": frequency, "mean_monetary": monetary}
    return pd.Series({**values, **extra})


@pytest.mark.parametrize(
    ("recency", "frequency", "monetary", "name"),
    [
        (10, 12, 200, "high-value regulars"),
        (10, 12, 50, "regulars"),
        (400, 1, 10, "lapsed low-spend one-timers"),
        (400, 1, 50, "lapsed one-timers"),
        (5, 1, 50, "recent first-timers"),
        (5, 1, 150, "recent big-ticket first-timers"),
        (90, 2.5, 150, "slipping big spenders"),
        (90, 8, 150, "slipping high-value regulars"),
        (90, 2.5, 50, "occasional mid-spenders"),
        (90, 2.5, 10, "occasional low-spenders"),
        (10, 2.5, 50, "recent occasional mid-spenders"),
        (400, 8, 10, "lapsed low-spend regulars"),
    ],
)
def test_a_cluster_is_named_by_its_recency_frequency_and_spend(
    recency: float, frequency: float, monetary: float, name: str
) -> None:
    assert name_cluster(profile(recency, frequency, monetary), POPULATION) == name


def test_a_cluster_paying_late_is_called_late_paying() -> None:
    late = profile(400, 1, 50, mean_payment=20.0)
    assert name_cluster(late, POPULATION) == "late-paying lapsed one-timers"


def test_lateness_under_a_day_is_never_called_late() -> None:
    punctual = Population(
        POPULATION.recency, POPULATION.frequency, POPULATION.monetary, payment=Tertiles(0.0, 0.0)
    )
    assert name_cluster(profile(400, 1, 50, mean_payment=0.5), punctual) == "lapsed one-timers"
    assert name_cluster(profile(400, 1, 50, mean_payment=1.0), punctual).startswith("late")


def test_payment_is_ignored_without_population_payment_tertiles() -> None:
    without = Population(POPULATION.recency, POPULATION.frequency, POPULATION.monetary)
    assert name_cluster(profile(400, 1, 50, mean_payment=99.0), without) == "lapsed one-timers"


def test_a_little_repeat_buying_among_one_timers_is_not_regular() -> None:
    # Most customers bought once, so both frequency tertiles are 1.
    population = Population(Tertiles(30, 180), Tertiles(1, 1), Tertiles(20, 80))
    assert name_cluster(profile(90, 1.2, 50), population) == "one-timers"
    assert name_cluster(profile(90, 1.7, 50), population) == "occasional mid-spenders"
    assert name_cluster(profile(90, 2.0, 50), population) == "slipping regulars"


def test_a_value_on_tied_tertiles_is_low_not_high() -> None:
    assert Tertiles(1.0, 1.0).band(1.0) == "low"
    assert Tertiles(1.0, 3.0).band(2.0) == "mid"
    assert Tertiles(1.0, 3.0).band(3.0) == "high"


def test_repeated_names_get_numbered_in_row_order() -> None:
    profiles = pd.DataFrame(
        [profile(400, 1, 50), profile(10, 12, 200), profile(400, 1, 50), profile(401, 1, 51)]
    )
    assert name_clusters(profiles, POPULATION) == [
        "lapsed one-timers",
        "high-value regulars",
        "lapsed one-timers (2)",
        "lapsed one-timers (3)",
    ]


def test_population_tertiles_are_the_third_quantiles() -> None:
    values = pd.DataFrame(
        {"recency": [0, 3, 6, 9], "frequency": [1, 1, 1, 4], "monetary": [3.0, 6.0, 9.0, 12.0]}
    )
    population = describe_population(values)
    assert population.recency == Tertiles(3.0, 6.0)
    assert population.frequency == Tertiles(1.0, 1.0)
    assert population.payment is None
    assert describe_population(values.assign(payment=[0.0, 0, 0, 3])).payment == Tertiles(0, 0)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1000), st.floats(1, 50), st.floats(0.01, 1e4), st.floats(0, 90)),
        min_size=1,
        max_size=12,
    )
)
def test_names_are_unique_lowercase_phrases(rows: list[tuple[float, ...]]) -> None:
    profiles = pd.DataFrame(
        rows, columns=["mean_recency", "mean_frequency", "mean_monetary", "mean_payment"]
    )
    names = name_clusters(profiles, POPULATION)
    assert len(set(names)) == len(names) == len(rows)
    for name in names:
        assert name == name.strip().lower()
        assert "  " not in name
