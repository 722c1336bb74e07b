from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lealta.clustering.features import (
    build_features,
    impute_payment,
    log_transform,
    standardise,
    validate_customers,
)
from lealta.errors import InvalidInput, MissingColumn


def customers(**overrides: list[object]) -> pd.DataFrame:
    columns: dict[str, list[object]] = {
        "customer_id": ["a", "b", "c", "d"],
        "recency": [0, 10, 100, 400],
        "frequency": [1, 2, 5, 20],
        "monetary": [5.0, 20.0, 60.0, 300.0],
        "revenue": [5.0, 40.0, 300.0, 6000.0],
        "payment": [0.0, 2.0, np.nan, 30.0],
    }
    columns.update(overrides)
    return pd.DataFrame(columns)


def test_the_matrix_is_the_z_score_of_log1p_of_each_feature() -> None:
    frame = customers()
    features = build_features(frame, use_payment=False)
    logged = np.log1p(frame[["recency", "frequency", "monetary"]].to_numpy(dtype=float))
    expected = (logged - logged.mean(axis=0)) / logged.std(axis=0)
    np.testing.assert_allclose(features.matrix, expected)
    assert features.columns == ("recency", "frequency", "monetary")


def test_every_standardised_column_has_mean_zero_and_unit_spread() -> None:
    matrix = build_features(customers(), use_payment=True).matrix
    np.testing.assert_allclose(matrix.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(matrix.std(axis=0), 1.0)


def test_a_constant_column_becomes_zeros_not_nan() -> None:
    # 0.1 is not exact in binary: its mean can differ from it by rounding, its std be ~1e-17.
    matrix = standardise(np.array([[0.1, 1.0], [0.1, 2.0], [0.1, 3.0]] * 7))
    assert np.isfinite(matrix).all()
    assert (matrix[:, 0] == 0.0).all()


def test_log_transform_is_log1p_and_keeps_zero_at_zero() -> None:
    logged = log_transform(pd.DataFrame({"recency": [0, 9]}))
    np.testing.assert_allclose(logged[:, 0], [0.0, math.log(10)])


def test_payment_is_the_last_feature_only_when_asked_for() -> None:
    assert build_features(customers(), use_payment=True).columns[-1] == "payment"
    assert "payment" not in build_features(customers(), use_payment=False).columns


def test_missing_payment_is_filled_with_the_median_and_said_so() -> None:
    features = build_features(customers(), use_payment=True)
    assert features.values["payment"].tolist() == [0.0, 2.0, 2.0, 30.0]
    assert len(features.notes) == 1
    assert "1 of 4 customers" in features.notes[0]
    assert "median, 2 days late" in features.notes[0]


def test_complete_payment_needs_no_note() -> None:
    filled, note = impute_payment(pd.Series([1.0, 2.0]))
    assert note is None
    assert filled.tolist() == [1.0, 2.0]


def test_payment_missing_for_everyone_cannot_be_imputed() -> None:
    with pytest.raises(InvalidInput) as error:
        build_features(customers(payment=[np.nan] * 4), use_payment=True)
    assert error.value.field == "payment"


def test_building_features_leaves_the_input_untouched() -> None:
    frame = customers()
    before = frame.copy()
    build_features(frame, use_payment=True)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize("column", ["customer_id", "recency", "frequency", "monetary", "revenue"])
def test_a_missing_required_column_is_named(column: str) -> None:
    with pytest.raises(MissingColumn) as error:
        validate_customers(customers().drop(columns=column), use_payment=False)
    assert error.value.field == column


def test_payment_is_required_only_when_used() -> None:
    frame = customers().drop(columns="payment")
    validate_customers(frame, use_payment=False)
    with pytest.raises(MissingColumn):
        validate_customers(frame, use_payment=True)


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("recency", [-1, 10, 100, 400]),
        ("recency", [np.nan, 10, 100, 400]),
        ("frequency", [0, 2, 5, 20]),
        ("monetary", [0.0, 20.0, 60.0, 300.0]),
        ("monetary", [math.inf, 20.0, 60.0, 300.0]),
        ("monetary", ["5", "20", "60", "300"]),
        ("revenue", [-5.0, 40.0, 300.0, 6000.0]),
        ("revenue", [0.0, 0.0, 0.0, 0.0]),
        ("payment", [-1.0, 2.0, 3.0, 4.0]),
        ("frequency", [True, True, True, True]),
        ("customer_id", ["a", "a", "c", "d"]),
        ("customer_id", ["a", None, "c", "d"]),
    ],
)
def test_invalid_values_name_their_column(column: str, values: list[object]) -> None:
    with pytest.raises(InvalidInput) as error:
        validate_customers(customers(**{column: values}), use_payment=True)
    assert error.value.field == column


def test_an_empty_table_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="no customers"):
        validate_customers(customers().iloc[0:0], use_payment=False)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 1000),
            st.integers(1, 50),
            st.floats(0.01, 1e6, allow_nan=False),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_standardised_columns_are_finite_and_either_zero_or_unit_scaled(
    rows: list[tuple[int, int, float]],
) -> None:
    matrix = standardise(log_transform(pd.DataFrame(rows)))
    assert np.isfinite(matrix).all()
    for column in matrix.T:
        if (column == 0.0).all():
            continue
        assert abs(column.mean()) < 1e-9
        assert column.std() == pytest.approx(1.0)
