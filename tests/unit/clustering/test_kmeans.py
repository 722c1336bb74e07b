from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lealta.clustering import ClusterResult, cluster_customers
from lealta.clustering.kmeans import renumber, sample_indices, sampled_silhouette
from lealta.errors import InvalidInput

PROFILE_COLUMNS = [
    "cluster",
    "name",
    "customers",
    "customer_share",
    "revenue",
    "revenue_share",
    "mean_recency",
    "mean_frequency",
    "mean_monetary",
]


def archetypes(per_group: int = 150, seed: int = 0) -> pd.DataFrame:
    """Champions (recent, frequent, big), lapsed one-timers and a middle group, well apart."""
    rng = np.random.default_rng(seed)
    groups = [
        (rng.integers(0, 15, per_group), rng.integers(12, 30, per_group), (150, 300)),
        (rng.integers(300, 700, per_group), np.ones(per_group, dtype=int), (10, 25)),
        (rng.integers(60, 120, per_group), rng.integers(3, 6, per_group), (40, 70)),
    ]
    frames = [
        pd.DataFrame({"recency": r, "frequency": f, "monetary": rng.uniform(*m, per_group)})
        for r, f, m in groups
    ]
    frame = pd.concat(frames, ignore_index=True)
    frame["revenue"] = frame["frequency"] * frame["monetary"]
    frame.insert(0, "customer_id", [f"c{i:04d}" for i in range(len(frame))])
    return frame


def uniform(
    n: int, *, recency: int = 10, frequency: int = 2, monetary: float = 30.0
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": range(n),
            "recency": [recency] * n,
            "frequency": [frequency] * n,
            "monetary": [monetary] * n,
            "revenue": [frequency * monetary] * n,
        }
    )


@pytest.fixture(scope="module")
def result() -> ClusterResult:
    return cluster_customers(archetypes())


def test_three_well_separated_archetypes_give_three_clusters(result: ClusterResult) -> None:
    assert result.k == 3
    assert set(result.silhouette) == set(range(2, 9))
    assert max(result.silhouette, key=result.silhouette.__getitem__) == 3
    assert result.notes == []


def test_the_archetypes_are_named_for_what_they_are(result: ClusterResult) -> None:
    assert result.profiles["name"].tolist() == [
        "high-value regulars",
        "occasional mid-spenders",
        "lapsed low-spend one-timers",
    ]
    champions = result.labels.loc[result.labels["cluster"] == 0, "customer_id"]
    assert sorted(champions) == [f"c{i:04d}" for i in range(150)]


def test_profiles_have_the_documented_columns_and_shares_summing_to_one(
    result: ClusterResult,
) -> None:
    profiles = result.profiles
    assert profiles.columns.tolist() == PROFILE_COLUMNS
    assert profiles["customer_share"].sum() == pytest.approx(1.0)
    assert profiles["revenue_share"].sum() == pytest.approx(1.0)
    assert profiles["customers"].sum() == 450
    assert profiles["revenue_share"].is_monotonic_decreasing
    assert profiles["cluster"].tolist() == [0, 1, 2]


def test_every_customer_is_labelled_once_in_input_order(result: ClusterResult) -> None:
    labels = result.labels
    assert labels.columns.tolist() == ["customer_id", "cluster", "cluster_name"]
    assert labels["customer_id"].tolist() == archetypes()["customer_id"].tolist()
    names = dict(zip(result.profiles["cluster"], result.profiles["name"], strict=True))
    assert (labels["cluster_name"] == labels["cluster"].map(names)).all()


def test_the_same_seed_gives_identical_results(result: ClusterResult) -> None:
    again = cluster_customers(archetypes())
    pd.testing.assert_frame_equal(again.labels, result.labels)
    pd.testing.assert_frame_equal(again.profiles, result.profiles)
    assert again.silhouette == result.silhouette


def test_cluster_numbers_do_not_depend_on_seed_or_row_order(result: ClusterResult) -> None:
    shuffled = archetypes().sample(frac=1.0, random_state=3)
    other = cluster_customers(shuffled, k=3, seed=7)
    merged = other.labels.merge(result.labels, on="customer_id", suffixes=("", "_before"))
    assert (merged["cluster"] == merged["cluster_before"]).all()


def test_renumbering_puts_the_highest_revenue_first_then_the_larger_cluster() -> None:
    labels = np.array([0, 0, 1, 1, 1, 2, 3, 4], dtype=np.int64)
    revenue = np.array([10.0, 10.0, 5.0, 5.0, 10.0, 50.0, 0.0, 0.0])
    # Revenue: old 2 has 50; old 0 and 1 have 20 each but 1 is larger; 3 and 4 tie entirely.
    assert renumber(labels, revenue).tolist() == [2, 2, 1, 1, 1, 0, 3, 4]


def test_a_given_k_is_used_and_scored_alone() -> None:
    result = cluster_customers(archetypes(per_group=40), k=4)
    assert result.k == 4
    assert list(result.silhouette) == [4]
    assert sorted(result.labels["cluster"].unique()) == [0, 1, 2, 3]


def test_the_silhouette_sample_is_sorted_distinct_and_seeded() -> None:
    sample = sample_indices(1000, 100, seed=5)
    assert len(np.unique(sample)) == 100
    assert (np.diff(sample) > 0).all()
    np.testing.assert_array_equal(sample, sample_indices(1000, 100, seed=5))
    np.testing.assert_array_equal(sample_indices(50, 100, seed=5), np.arange(50))


def test_a_sample_holding_one_cluster_scores_zero_with_a_note() -> None:
    notes: list[str] = []
    matrix = np.arange(10.0).reshape(5, 2)
    assert sampled_silhouette(matrix, np.zeros(5, dtype=np.int64), 2, notes) == 0.0
    assert notes == ["k=2: the silhouette sample held one cluster only; scored as 0"]


def test_a_sampled_silhouette_still_finds_the_archetypes() -> None:
    result = cluster_customers(archetypes(per_group=100), sample_size=120)
    assert result.k == 3


def test_payment_is_clustered_on_and_late_payers_named() -> None:
    twins = pd.concat([archetypes(per_group=60, seed=1)] * 2, ignore_index=True)
    twins["customer_id"] = range(len(twins))
    twins["payment"] = [1.0] * 180 + [45.0] * 180
    twins.loc[5, "payment"] = np.nan
    result = cluster_customers(twins, k=6, use_payment=True)
    assert "mean_payment" in result.profiles.columns
    late = result.profiles[result.profiles["mean_payment"] > 40]
    assert len(late) == 3
    assert late["name"].str.startswith("late-paying ").all()
    assert any("payment was missing for 1 of 360" in note for note in result.notes)


def test_payment_is_ignored_unless_asked_for() -> None:
    frame = archetypes(per_group=40).assign(payment=1.0)
    result = cluster_customers(frame, k=3)
    assert "mean_payment" not in result.profiles.columns


def test_identical_customers_form_one_cluster_with_a_note() -> None:
    result = cluster_customers(uniform(25))
    assert result.k == 1
    assert result.silhouette == {}
    assert result.labels["cluster"].eq(0).all()
    assert result.profiles["customer_share"].tolist() == [1.0]
    assert "identical" in result.notes[0]


def test_a_single_customer_is_one_cluster() -> None:
    result = cluster_customers(uniform(1))
    assert result.k == 1
    assert result.labels["cluster"].tolist() == [0]


def test_two_customers_make_two_clusters() -> None:
    frame = pd.concat([uniform(1), uniform(1, recency=300)], ignore_index=True)
    frame["customer_id"] = ["x", "y"]
    result = cluster_customers(frame)
    assert result.k == 2
    assert result.silhouette == {2: 0.0}


def test_fewer_distinct_customers_than_k_caps_k_with_a_note() -> None:
    frame = pd.concat(
        [uniform(20), uniform(20, recency=300), uniform(20, frequency=9)], ignore_index=True
    )
    frame["customer_id"] = range(60)
    chosen = cluster_customers(frame, k=5)
    searched = cluster_customers(frame, k_range=(2, 8))
    assert chosen.k == 3
    assert list(searched.silhouette) == [2, 3]
    assert "only 3 distinct" in chosen.notes[0]
    assert "only 3 distinct" in searched.notes[0]


def test_more_clusters_than_customers_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="more than the 3 customers") as error:
        cluster_customers(archetypes().head(3), k=4)
    assert error.value.field == "k"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"k": 1}, "k"),
        ({"k": 0}, "k"),
        ({"k": 51}, "k"),
        ({"k": True}, "k"),
        ({"k": 2.5}, "k"),
        ({"k_range": (5, 3)}, "k_range"),
        ({"k_range": (1, 4)}, "k_range"),
        ({"k_range": (2, 99)}, "k_range"),
        ({"k_range": (2,)}, "k_range"),
        ({"seed": -1}, "seed"),
        ({"sample_size": 10}, "sample_size"),
    ],
)
def test_invalid_options_name_the_option(options: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        cluster_customers(archetypes(per_group=5), **options)  # type: ignore[arg-type]
    assert error.value.field == field


def test_an_empty_table_is_invalid() -> None:
    with pytest.raises(InvalidInput):
        cluster_customers(uniform(0))


customer_rows = st.lists(
    st.tuples(st.integers(0, 5), st.integers(1, 3), st.sampled_from([5.0, 50.0, 500.0])),
    min_size=1,
    max_size=40,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customer_rows, st.integers(2, 4))
def test_every_customer_gets_exactly_one_label_below_k(
    rows: list[tuple[int, int, float]], highest: int
) -> None:
    frame = pd.DataFrame(rows, columns=["recency", "frequency", "monetary"])
    frame["revenue"] = frame["frequency"] * frame["monetary"]
    frame.insert(0, "customer_id", range(len(frame)))
    result = cluster_customers(frame, k_range=(2, highest))
    labels = result.labels["cluster"]
    assert result.labels["customer_id"].tolist() == list(range(len(frame)))
    assert labels.between(0, result.k - 1).all()
    assert labels.nunique() == result.k == len(result.profiles)
    assert result.profiles["customers"].sum() == len(frame)
    assert result.profiles["revenue_share"].sum() == pytest.approx(1.0)
    assert result.profiles["name"].is_unique
