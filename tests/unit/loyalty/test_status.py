"""The status rules of a review, on hand-written tables (no database, no clock)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from lealta.loyalty.program import load_program
from lealta.loyalty.status import review

D = dt.date
TIERS = [
    {"name": "Member"},
    {"name": "Silver", "qualify": {"orders": 2}},
    {"name": "Gold", "qualify": {"orders": 4}},
    {"name": "Platinum", "qualify": {"orders": 8}},
]


def program(**status: object) -> object:
    return load_program({"name": "P", "tiers": TIERS, "status": status})


def one(
    current: tuple[str, D, D | None, D | None] | None,
    qualified: int | None,
    today: D,
    **status: object,
) -> tuple[dict[str, object] | None, list[dict[str, object]]]:
    rows = [("c1", *current)] if current else []
    state, changes = review(
        pd.DataFrame(rows, columns=["contact_id", "tier", "since", "until", "falling_since"]),
        pd.DataFrame([("c1", qualified, 9, "why")],
                     columns=["contact_id", "tier_rank", "score_sum", "qualified_by"]),
        program(**status),  # type: ignore[arg-type]
        today=today,
    )  # fmt: skip
    found = state.to_dict("records")
    return (found[0] if found else None), changes.to_dict("records")


def test_an_upgrade_is_immediate_and_kept_by_the_rule() -> None:
    state, changes = one(("Silver", D(2026, 1, 1), None, None), 3, D(2026, 5, 2), keep_days=10)
    assert state is not None
    assert (state["tier"], state["since"], state["until"]) == (
        "Gold",
        D(2026, 5, 2),
        D(2026, 5, 11),
    )
    assert changes == [{"contact_id": "c1", "from_tier": "Silver", "to_tier": "Gold",
                        "direction": "up", "reason": "qualified: why"}]  # fmt: skip


def test_the_grace_counts_from_the_first_review_below_without_a_kept_period() -> None:
    current = ("Gold", D(2026, 1, 1), None, D(2026, 3, 1))
    kept, changes = one(current, 1, D(2026, 3, 30), grace_days=30)
    assert kept is not None
    assert (kept["tier"], kept["qualified_by"]) == ("Gold", "in grace until 2026-03-30")
    assert changes == []
    fallen, changes = one(current, 1, D(2026, 3, 31), grace_days=30)
    assert fallen is not None
    assert (fallen["tier"], fallen["falling_since"]) == ("Silver", None)
    assert changes[0]["reason"] == "no longer qualifies for Gold; at most 1 tier(s) down per review"


def test_without_a_step_limit_a_customer_falls_to_what_they_qualify_for() -> None:
    state, changes = one(("Platinum", D(2026, 1, 1), None, None), None, D(2026, 2, 1),
                         max_steps_down=None)  # fmt: skip
    assert state is None
    assert [(c["from_tier"], c["to_tier"], c["direction"]) for c in changes] == [
        ("Platinum", None, "down")
    ]


def test_qualifying_again_renews_until_and_ends_the_fall() -> None:
    state, changes = one(("Silver", D(2026, 1, 1), D(2026, 12, 31), D(2026, 6, 1)), 2,
                         D(2026, 7, 1), keep_until="end_of_next_year")  # fmt: skip
    assert state is not None
    assert (state["until"], state["falling_since"], state["since"]) == (
        D(2027, 12, 31),
        None,
        D(2026, 1, 1),
    )
    assert changes == []


def test_a_tier_the_programme_no_longer_has_is_replaced() -> None:
    state, changes = one(("Diamond", D(2025, 1, 1), D(2030, 1, 1), None), 1, D(2026, 1, 1))
    assert state is not None
    assert state["tier"] == "Member"
    assert [(c["from_tier"], c["to_tier"]) for c in changes] == [("Diamond", "Member")]
