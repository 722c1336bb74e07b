from __future__ import annotations

import pytest

from lealta.errors import InvalidInput
from lealta.segmentation.cutpoints import (
    numpy_linear_quantile,
    pymc_cut_points,
    r_quantile7,
    r_rfm_cut_points,
    r_seq01,
)

MTCARS_MPG = [
    21.0, 21.0, 22.8, 21.4, 18.7, 18.1, 14.3, 24.4, 22.8, 19.2, 17.8, 16.4, 17.3, 15.2, 10.4,
    10.4, 14.7, 32.4, 30.4, 33.9, 21.5, 15.5, 15.2, 13.3, 19.2, 27.3, 26.0, 30.4, 15.8, 19.7,
    15.0, 21.4,
]  # fmt: skip


def test_r_cut_points_match_the_packages_own_test_on_mtcars() -> None:
    cut = r_rfm_cut_points(MTCARS_MPG, 5)
    assert cut.breaks == pytest.approx((16.20, 18.92, 22.00, 25.08))
    assert cut.closed == "left"


def test_r_seq_reproduces_rs_floating_point_steps() -> None:
    assert r_seq01(5)[3] == 0.6000000000000001
    assert r_seq01(5)[-1] == 1.0


def test_r_quantile_interpolates_like_type_7() -> None:
    assert r_quantile7([1, 2, 3, 4], 0.5) == 2.5
    assert r_quantile7([5], 0.3) == 5.0


def test_numpy_quantile_matches_numpy() -> None:
    import numpy as np

    values = sorted([3.0, 1.5, 7.25, 9.0, 2.0, 2.0, 11.0])
    for q in (0.0, 0.25, 0.5, 0.75, 1.0):
        assert numpy_linear_quantile(values, q) == float(np.quantile(values, q))


def test_pymc_cut_points_drop_duplicate_edges() -> None:
    cut = pymc_cut_points([1, 2, 2, 2, 3], "frequency")
    assert cut.levels == 2
    assert cut.note is not None


def test_pymc_cannot_score_a_constant_column() -> None:
    with pytest.raises(InvalidInput, match="too few distinct values"):
        pymc_cut_points([4, 4, 4], "monetary")
