"""The ``points`` rule: status points in a window, at its boundaries, in combinations, in
words and in the progress to the next tier (tiny facts tables, DuckDB in-process)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd
import pytest

from lealta.engines import connect
from lealta.errors import InvalidInput, MissingColumn
from lealta.loyalty.assign import assign_tiers, required_columns
from lealta.loyalty.program import json_schema, load_program
from lealta.loyalty.progress import deadline
from lealta.loyalty.rules import STATUS_POINTS
from lealta.loyalty.wording import describe

ENGINE = connect()


def programme(gold: dict[str, Any], **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": "Points",
        "points": {},
        "tiers": [{"name": "Member"}, {"name": "Gold", "qualify": gold}],
    }
    document.update(changes)
    return document


def facts(*rows: dict[str, Any]) -> pd.DataFrame:
    """Customers with middling scores, no orders, and 0 status points in 365 and 30 days."""
    base = {
        "r_score": 3, "f_score": 3, "m_score": 3, "orders_365d": 0, "spend_365d": 0.0,
        "points_365d": 0, "points_30d": 0,
    }  # fmt: skip
    frame = pd.DataFrame([{**base, **row} for row in rows])
    return frame.astype({"orders_365d": "int64", "points_365d": "Int64", "points_30d": "Int64"})


def assign(frame: pd.DataFrame, document: dict[str, Any]) -> pd.DataFrame:
    program = load_program(document)
    result = ENGINE.execute(assign_tiers(ibis.memtable(frame), program)).set_index("customer_id")
    texts = ["tier", "qualified_by", "next_tier", "progress"]
    result[texts] = result[texts].astype(object).where(result[texts].notna(), None)
    return result


def test_a_points_threshold_holds_at_n_and_above_and_not_at_n_minus_one() -> None:
    frame = facts(
        {"customer_id": "n-1", "points_365d": 1999},
        {"customer_id": "n", "points_365d": 2000},
        {"customer_id": "n+1", "points_365d": 2001},
        {"customer_id": "none", "points_365d": None},  # no ledger entry at all
    )
    result = assign(frame, programme({"points": 2000}))
    assert result["tier"].to_dict() == {
        "n-1": "Member",
        "n": "Gold",
        "n+1": "Gold",
        "none": "Member",
    }
    assert result.loc["n", "qualified_by"] == "at least 2,000 points earned in 365 days"


def test_a_points_rule_reads_its_own_window_or_the_programmes() -> None:
    frame = facts(
        {"customer_id": "year", "points_365d": 900, "points_30d": 0},
        {"customer_id": "month", "points_365d": 900, "points_30d": 500},
    )
    short = assign(frame, programme({"points": 500, "window_days": 30}))
    assert short["tier"].to_dict() == {"year": "Member", "month": "Gold"}
    default = assign(frame.drop(columns="points_30d"), programme({"points": 500}))
    assert default["tier"].to_dict() == {"year": "Gold", "month": "Gold"}


def test_the_facts_must_carry_the_points_columns_the_rules_read() -> None:
    program = load_program(programme({"points": 500, "window_days": 30}))
    assert required_columns(program)[-1:] == ["points_30d"]
    assert program.points_windows() == [30]
    assert program.windows() == []
    with pytest.raises(MissingColumn) as caught:
        assign_tiers(ibis.memtable(facts({"customer_id": "a"}).drop(columns="points_30d")), program)
    assert caught.value.field == "points_30d"


def test_points_combine_with_all_and_any_like_any_rule() -> None:
    frame = facts(
        {"customer_id": "both", "r_score": 5, "f_score": 4, "m_score": 3, "points_365d": 1000},
        {"customer_id": "points-only", "points_365d": 1000},
        {"customer_id": "score-only", "r_score": 5, "f_score": 4, "m_score": 3},
        {"customer_id": "spender", "spend_365d": 800.0},
    )
    every = assign(frame, programme({"all": [{"score_sum": 12}, {"points": 1000}]}))
    assert every["tier"].to_dict() == {
        "both": "Gold",
        "points-only": "Member",
        "score-only": "Member",
        "spender": "Member",
    }
    either = assign(frame, programme({"any": [{"spend": 800}, {"points": 1000}]}))
    assert either["tier"].to_dict() == {
        "both": "Gold",
        "points-only": "Gold",
        "score-only": "Member",
        "spender": "Gold",
    }
    assert either.loc["points-only", "qualified_by"] == "at least 1,000 points earned in 365 days"
    assert either.loc["spender", "qualified_by"] == "at least €800 spent in 365 days"


def test_the_score_convention_changes_nothing_for_points() -> None:
    frame = facts({"customer_id": "a", "points_365d": 700}, {"customer_id": "b"})
    for best in (5, 1):
        found = assign(frame, programme({"points": 700}, best=best))
        assert found["tier"].to_dict() == {"a": "Gold", "b": "Member"}


def test_progress_says_how_many_more_points_reach_the_next_tier() -> None:
    frame = facts(
        {"customer_id": "short", "points_365d": 1680},
        {"customer_id": "one", "points_365d": 1999},
        {"customer_id": "far", "points_365d": None},
    )
    result = assign(frame, programme({"points": 2000}))
    assert result.loc["short", "progress"] == "320 more points to Gold"
    assert result.loc["short", "points_to_next"] == 320
    assert result.loc["one", "progress"] == "1 more point to Gold"
    assert result.loc["far", "progress"] == "2,000 more points to Gold"
    assert pd.isna(result.loc["short", "orders_to_next"])
    assert pd.isna(result.loc["short", "spend_to_next"])


def test_progress_lists_points_beside_orders_and_spend() -> None:
    frame = facts({"customer_id": "a", "orders_365d": 1, "spend_365d": 60.0, "points_365d": 60})
    either = assign(frame, programme({"any": [{"orders": 3}, {"spend": 500}, {"points": 500}]}))
    assert either.loc["a", "progress"] == "2 more orders or €440 or 440 more points to Gold"
    assert (either.loc["a", "orders_to_next"], either.loc["a", "points_to_next"]) == (2, 440)
    both = assign(frame, programme({"all": [{"orders": 3}, {"points": 500}]}))
    assert both.loc["a", "progress"] == "2 more orders and 440 more points to Gold"
    # neither alone reaches the tier: no single figure
    assert pd.isna(both.loc["a", "orders_to_next"])
    assert pd.isna(both.loc["a", "points_to_next"])


def test_a_points_rule_without_a_points_ledger_is_refused_where_it_is_written() -> None:
    document = programme({"any": [{"spend": 500}, {"points": 2000}]})
    del document["points"]
    with pytest.raises(InvalidInput) as caught:
        load_program(document)
    assert caught.value.field == "tiers[Gold].qualify.any[1].points"
    assert "add a `points:` section" in str(caught.value)


def test_a_points_rule_is_refused_below_one_point_with_its_place() -> None:
    with pytest.raises(InvalidInput) as caught:
        load_program(programme({"points": 0}))
    assert caught.value.field == "tiers[Gold].qualify.points"


def test_status_points_are_defined_in_the_published_schema() -> None:
    schema = json_schema()
    rule = schema["$defs"]["PointsRule"]["properties"]["points"]
    assert rule["description"].endswith(STATUS_POINTS)
    assert "Redemptions, expiry and manual debits do not lower them" in STATUS_POINTS


def test_points_rules_in_words_follow_their_window() -> None:
    program = load_program(programme({"points": 1, "window_days": 90}))
    gold = program.tier("Gold").qualify
    assert gold is not None
    assert describe(gold, program) == "at least 1 point earned in 90 days"


def test_the_deadline_of_points_progress_is_when_a_counted_order_leaves_the_window() -> None:
    program = load_program(programme({"points": 500, "window_days": 30}))
    today = dt.date(2026, 3, 31)
    days = [dt.date(2026, 3, 10), dt.date(2026, 3, 20), dt.date(2026, 2, 1)]
    assert deadline(days, program, "Gold", today=today) == dt.date(2026, 4, 9)
    assert deadline([dt.date(2026, 2, 1)], program, "Gold", today=today) is None
