"""Tier assignment on tiny hand-written facts tables (DuckDB in-process)."""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
import pytest

from lealta.engines import connect
from lealta.errors import MissingColumn
from lealta.loyalty.assign import assign_tiers, required_columns
from lealta.loyalty.program import LoyaltyProgram, load_program

ENGINE = connect()


def facts(*rows: dict[str, Any]) -> pd.DataFrame:
    """Customers with scores (5 = best) and orders/spend in a 365-day window."""
    base = {"r_score": 3, "f_score": 3, "m_score": 3, "orders_365d": 0, "spend_365d": 0.0}
    frame = pd.DataFrame([{"customer_id": row["customer_id"], **base, **row} for row in rows])
    return frame.astype({"orders_365d": "int64", "spend_365d": "float64"})


def assign(frame: pd.DataFrame, program: LoyaltyProgram | dict[str, Any]) -> pd.DataFrame:
    loaded = program if isinstance(program, LoyaltyProgram) else load_program(program)
    result = ENGINE.execute(assign_tiers(ibis.memtable(frame), loaded)).set_index("customer_id")
    texts = ["tier", "qualified_by", "next_tier", "progress"]
    result[texts] = result[texts].astype(object).where(result[texts].notna(), None)
    return result


def tiers_of(frame: pd.DataFrame, program: LoyaltyProgram | dict[str, Any]) -> dict[str, Any]:
    return assign(frame, program)["tier"].to_dict()


def ladder(best: int = 5, **changes: Any) -> dict[str, Any]:
    """Eligible from a score sum of 5, Silver from 9, Gold from 12 (sums read 5 = best).

    With ``best=1`` the same thresholds are written in that convention, where a sum ``s``
    reads ``18 - s`` and "or better" means "or lower".
    """
    sums = [5, 9, 12] if best == 5 else [18 - 5, 18 - 9, 18 - 12]
    document = {
        "name": "Ladder",
        "best": best,
        "eligibility": {"score_sum": sums[0]},
        "tiers": [
            {"name": "Member"},
            {"name": "Silver", "qualify": {"score_sum": sums[1]}},
            {"name": "Gold", "qualify": {"score_sum": sums[2]}},
        ],
    }
    document.update(changes)
    return document


def test_score_sum_thresholds_hold_at_their_boundary_and_not_one_below() -> None:
    frame = facts(
        {"customer_id": "sum4", "r_score": 2, "f_score": 1, "m_score": 1},
        {"customer_id": "sum5", "r_score": 2, "f_score": 2, "m_score": 1},
        {"customer_id": "sum8", "r_score": 3, "f_score": 3, "m_score": 2},
        {"customer_id": "sum9", "r_score": 3, "f_score": 3, "m_score": 3},
        {"customer_id": "sum11", "r_score": 4, "f_score": 4, "m_score": 3},
        {"customer_id": "sum12", "r_score": 4, "f_score": 4, "m_score": 4},
    )
    assert tiers_of(frame, ladder()) == {
        "sum4": None,
        "sum5": "Member",
        "sum8": "Member",
        "sum9": "Silver",
        "sum11": "Silver",
        "sum12": "Gold",
    }


def test_below_the_eligibility_threshold_a_customer_is_in_no_tier_whatever_else() -> None:
    program = ladder(
        eligibility={"score_sum": 7},
        tiers=[{"name": "Member"}, {"name": "Big", "qualify": {"spend": 100}}],
    )
    frame = facts(
        {"customer_id": "rich-but-lapsed", "r_score": 1, "f_score": 2, "m_score": 3,
         "spend_365d": 5000.0},
        {"customer_id": "eligible", "r_score": 3, "f_score": 2, "m_score": 2},
    )  # fmt: skip
    result = assign(frame, program)
    assert result.loc["rich-but-lapsed", "tier"] is None
    assert not result.loc["rich-but-lapsed", "eligible"]
    assert result.loc["eligible", "tier"] == "Member"
    assert result.loc["eligible", "qualified_by"] == "eligible (score sum >= 7)"


def test_without_an_eligibility_rule_or_a_base_tier_everyone_below_the_first_rule_is_out() -> None:
    program = {"name": "P", "tiers": [{"name": "Silver", "qualify": {"orders": 2}}]}
    frame = facts(
        {"customer_id": "one", "orders_365d": 1}, {"customer_id": "two", "orders_365d": 2}
    )
    result = assign(frame, program)
    assert result["eligible"].all()
    assert tiers_of(frame, program) == {"one": None, "two": "Silver"}


def test_both_score_conventions_put_every_customer_in_the_same_tier() -> None:
    frame = facts(
        *(
            {"customer_id": f"{r}{f}{m}", "r_score": r, "f_score": f, "m_score": m}
            for r in range(1, 6)
            for f in range(1, 6)
            for m in range(1, 6)
        )
    )
    five, one = assign(frame, ladder(best=5)), assign(frame, ladder(best=1))
    pd.testing.assert_series_equal(five["tier"], one["tier"])
    assert (five["score_sum"] + one["score_sum"] == 18).all()
    assert (five["r"] + one["r"] == 6).all()
    assert one.loc["555", "score_sum"] == 3
    assert one.loc["555", "qualified_by"] == "score sum <= 6"
    assert set(five["tier"].dropna()) == {"Member", "Silver", "Gold"}


RFMP_GRID = [
    (r, f, m, p) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6) for p in (1, 3, 5)
]


@pytest.mark.parametrize(
    ("threshold", "r_min", "p_min"), [(4, 1, 1), (11, 3, 5), (12, 4, 2), (20, 5, 5)]
)
def test_an_rfmp_programme_and_its_mirror_in_the_other_convention_agree(
    threshold: int, r_min: int, p_min: int
) -> None:
    scores = RFMP_GRID
    frame = pd.DataFrame(
        [
            {"customer_id": str(i), "r_score": r, "f_score": f, "m_score": m, "p_score": p}
            for i, (r, f, m, p) in enumerate(scores)
        ]
    )

    def document(best: int) -> dict[str, Any]:
        mirror = (lambda s: s) if best == 5 else (lambda s: 6 - s)
        total = threshold if best == 5 else 24 - threshold
        return {
            "name": "RFMP",
            "best": best,
            "dimensions": "rfmp",
            "tiers": [
                {"name": "Sum", "qualify": {"score_sum": total}},
                {"name": "Both", "qualify": {"scores": {"r": mirror(r_min), "p": mirror(p_min)}}},
            ],
        }

    five, one = assign(frame, document(5)), assign(frame, document(1))
    pd.testing.assert_series_equal(five["tier"], one["tier"])
    expected = [
        "Both" if r >= r_min and p >= p_min else "Sum" if r + f + m + p >= threshold else None
        for r, f, m, p in scores
    ]
    assert five["tier"].tolist() == expected


def test_per_dimension_scores_must_all_hold() -> None:
    program = {
        "name": "P",
        "tiers": [{"name": "Champion", "qualify": {"scores": {"r": 4, "m": 4}}}],
    }
    frame = facts(
        {"customer_id": "both", "r_score": 4, "m_score": 5},
        {"customer_id": "r-only", "r_score": 5, "m_score": 3},
        {"customer_id": "m-only", "r_score": 3, "m_score": 5},
    )
    assert tiers_of(frame, program) == {"both": "Champion", "r-only": None, "m-only": None}


def test_all_and_any_combine_and_the_first_alternative_that_holds_is_the_reason() -> None:
    program = {
        "name": "P",
        "currency": "EUR",
        "tiers": [
            {
                "name": "VIP",
                "qualify": {
                    "any": [
                        {"orders": 10},
                        {"all": [{"scores": {"r": 4}}, {"spend": 1500}]},
                        {"label": "top scorer", "score_sum": 15},
                    ]
                },
            }
        ],
    }
    frame = facts(
        {"customer_id": "orders", "orders_365d": 10, "r_score": 1},
        {"customer_id": "recent-spender", "r_score": 4, "spend_365d": 1500.0},
        {"customer_id": "spender-not-recent", "r_score": 3, "spend_365d": 9000.0},
        {"customer_id": "top", "r_score": 5, "f_score": 5, "m_score": 5},
    )
    result = assign(frame, program)
    assert result["qualified_by"].to_dict() == {
        "orders": "at least 10 orders in 365 days",
        "recent-spender": "R >= 4 and at least €1,500 spent in 365 days",
        "spender-not-recent": None,
        "top": "top scorer",
    }


def test_orders_and_spend_rules_read_their_own_window() -> None:
    program = {
        "name": "P",
        "window_days": 365,
        "tiers": [
            {"name": "Regular", "qualify": {"orders": 3}},
            {"name": "Loyal", "qualify": {"orders": 6, "window_days": 730}},
        ],
    }
    loaded = load_program(program)
    assert required_columns(loaded) == [
        "r_score", "f_score", "m_score", "orders_365d", "spend_365d", "orders_730d", "spend_730d",
    ]  # fmt: skip
    frame = facts(
        {"customer_id": "recent", "orders_365d": 3, "orders_730d": 3},
        {"customer_id": "steady", "orders_365d": 2, "orders_730d": 6},
    ).assign(spend_730d=0.0)
    assert tiers_of(frame, loaded) == {"recent": "Regular", "steady": "Loyal"}


def test_a_missing_score_makes_score_rules_false_and_the_sum_null() -> None:
    frame = facts(
        {"customer_id": "unscored", "r_score": None, "orders_365d": 4},
    ).astype({"r_score": "Int64"})
    program = {
        "name": "P",
        "tiers": [
            {"name": "Buyer", "qualify": {"orders": 1}},
            {"name": "Scored", "qualify": {"score_sum": 3}},
        ],
    }
    result = assign(frame, program)
    assert pd.isna(result.loc["unscored", "score_sum"])
    assert result.loc["unscored", "tier"] == "Buyer"


def test_progress_to_the_next_tier_in_numbers_and_words() -> None:
    program = {
        "name": "P",
        "tiers": [
            {"name": "Member"},
            {"name": "Gold", "qualify": {"any": [{"orders": 5}, {"spend": 1000}]}},
            {"name": "Platinum", "qualify": {"all": [{"orders": 10}, {"spend": 5000}]}},
        ],
    }
    frame = facts(
        {"customer_id": "member", "orders_365d": 3, "spend_365d": 859.5},
        {"customer_id": "one-short", "orders_365d": 4, "spend_365d": 100.0},
        {"customer_id": "gold", "orders_365d": 9, "spend_365d": 3760.0},
        {"customer_id": "platinum", "orders_365d": 10, "spend_365d": 5000.0},
    )
    result = assign(frame, program)
    member = result.loc["member"]
    assert member["next_tier"] == "Gold"
    assert member["orders_to_next"] == 2
    assert member["spend_to_next"] == pytest.approx(140.5)
    assert member["progress"] == "2 more orders or €141 to Gold"
    assert result.loc["one-short", "progress"] == "1 more order or €900 to Gold"
    gold = result.loc["gold"]
    assert gold["progress"] == "1 more order and €1,240 to Platinum"
    assert pd.isna(gold["orders_to_next"])  # an order alone is not enough
    assert pd.isna(gold["spend_to_next"])
    top = result.loc["platinum"]
    assert top["tier"] == "Platinum"
    assert top["next_tier"] is None
    assert top["progress"] is None


def test_progress_skips_ways_whose_score_conditions_do_not_hold_yet() -> None:
    recent_spend = {"all": [{"scores": {"r": 4}}, {"spend": 300}]}
    program = {
        "name": "P",
        "eligibility": {"score_sum": 6},
        "tiers": [{"name": "Gold", "qualify": {"any": [{"orders": 8}, recent_spend]}}],
    }
    frame = facts(
        {"customer_id": "recent", "r_score": 4, "orders_365d": 5, "spend_365d": 100.0},
        {"customer_id": "lapsing", "r_score": 2, "orders_365d": 5, "spend_365d": 100.0},
        {"customer_id": "ineligible", "r_score": 1, "f_score": 1, "m_score": 1, "orders_365d": 5},
    )
    result = assign(frame, program)
    assert result.loc["recent", "progress"] == "3 more orders or €200 to Gold"
    assert result.loc["lapsing", "progress"] == "3 more orders to Gold"
    assert result.loc["lapsing", "orders_to_next"] == 3
    assert pd.isna(result.loc["lapsing", "spend_to_next"])
    assert result.loc["ineligible", "progress"] is None  # only a better score would do
    assert result.loc["ineligible", "next_tier"] == "Gold"


def test_facts_without_a_column_the_programme_reads_are_refused() -> None:
    program = load_program(
        {"name": "P", "tiers": [{"name": "T", "qualify": {"orders": 1, "window_days": 30}}]}
    )
    with pytest.raises(MissingColumn, match="orders_30d, spend_30d") as caught:
        assign_tiers(ibis.memtable(facts({"customer_id": "a"})), program)
    assert caught.value.field == "orders_30d"


def test_columns_of_the_facts_pass_through_and_the_results_come_last() -> None:
    frame = facts({"customer_id": "a", "email": "a@example.com"})
    result = ENGINE.execute(assign_tiers(ibis.memtable(frame), load_program(ladder())))
    assert list(result.columns[:2]) == ["customer_id", "r_score"]
    assert "email" in result.columns
    assert list(result.columns[-13:]) == [
        "r", "f", "m", "score_sum", "eligible", "tier", "tier_rank", "qualified_by",
        "next_tier", "orders_to_next", "spend_to_next", "points_to_next", "progress",
    ]  # fmt: skip
