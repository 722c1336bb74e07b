"""The two-proportion z-test of A/B splits, against scipy and a textbook example."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lealta.feedback.significance import Arm, compare, two_proportion_z

scipy_stats = pytest.importorskip("scipy.stats")


def _reference(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """The same test written out with scipy's normal distribution."""
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (x2 / n2 - x1 / n1) / se
    return z, 2 * scipy_stats.norm.sf(abs(z))


def test_a_textbook_example() -> None:
    # 200 of 1,000 against 250 of 1,000: pooled p = 0.225, se = 0.018675, z = 2.6774,
    # two-sided p = 0.00742 (hand-computed; the classic vaccine-trial layout).
    found = two_proportion_z(200, 1000, 250, 1000)
    assert found is not None
    z, p = found
    assert z == pytest.approx(2.6774, abs=1e-4)
    assert p == pytest.approx(0.00742, abs=1e-5)


def test_scipy_agrees_with_a_chi_square_test_without_continuity_correction() -> None:
    # z squared is the chi-square statistic of the 2 x 2 table (scipy, correction off).
    table = [[166, 5190 - 166], [214, 5210 - 214]]
    chi2, p_chi, _, _ = scipy_stats.chi2_contingency(table, correction=False)
    found = two_proportion_z(166, 5190, 214, 5210)
    assert found is not None
    assert found[0] ** 2 == pytest.approx(chi2, rel=1e-9)
    assert found[1] == pytest.approx(p_chi, rel=1e-9)


@given(
    n1=st.integers(1, 100_000),
    n2=st.integers(1, 100_000),
    f1=st.floats(0, 1),
    f2=st.floats(0, 1),
)
def test_z_and_p_match_scipy(n1: int, n2: int, f1: float, f2: float) -> None:
    x1, x2 = round(n1 * f1), round(n2 * f2)
    found = two_proportion_z(x1, n1, x2, n2)
    if x1 + x2 in (0, n1 + n2):
        assert found is None  # everyone alike: no spread to test against
        return
    assert found is not None
    z, p = _reference(x1, n1, x2, n2)
    assert found[0] == pytest.approx(z, rel=1e-9, abs=1e-12)
    assert found[1] == pytest.approx(p, rel=1e-6, abs=1e-300)


def test_the_verdict_names_rates_sample_sizes_and_p() -> None:
    verdict = compare(Arm("A", 5190, 166), Arm("B", 5210, 214)).verdict("click rate")
    assert verdict == (
        "B's click rate 4.1% vs A's 3.2%, n=5,210 and 5,190: significant at 95% (p = 0.013)"
    )


def test_a_small_difference_is_not_yet_significant() -> None:
    result = compare(Arm("A", 1000, 30), Arm("B", 1000, 33))
    assert not result.significant
    assert result.p_value is not None
    assert result.p_value > 0.05
    assert "not yet significant at 95% (p = 0." in result.verdict()


def test_too_few_people_says_so_instead_of_a_number() -> None:
    result = compare(Arm("A", 10, 0), Arm("B", 10, 4))
    assert not result.significant
    assert not result.enough
    assert result.verdict("conversion rate").endswith(
        "not enough data yet (each branch needs 5 people who did and 5 who did not)"
    )


def test_an_empty_branch_cannot_be_tested() -> None:
    result = compare(Arm("A", 0, 0), Arm("B", 50, 10))
    assert result.p_value is None
    assert not result.significant
    assert "B's click rate 20.0% vs A's \u2013, n=50 and 0: not enough data yet" in result.verdict()


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="0 <= x <= n"):
        two_proportion_z(11, 10, 1, 10)
