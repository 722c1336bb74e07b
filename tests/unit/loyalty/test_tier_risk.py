"""A tier about to drop (pure): who starts falling, the drop day, the words that keep the tier;
the progress deadline; the tier events in the catalogue."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from lealta.events import catalog
from lealta.loyalty.moves import DOWNGRADED, UPGRADED
from lealta.loyalty.program import load_program
from lealta.loyalty.progress import deadline
from lealta.loyalty.risk import AT_RISK, at_risk, drops_on, keep_words, properties
from lealta.loyalty.wording import day_words

D = dt.date
PROGRAM = load_program(
    """
name: Friends
tiers:
  - name: Member
  - name: Silver
    qualify: {orders: 2}
  - name: Gold
    qualify: {any: [{orders: 4}, {spend: 500, window_days: 90}]}
status: {keep_days: 30, grace_days: 10, max_steps_down: 1}
"""
)


def test_the_drop_day_counts_the_grace_from_the_fall_or_the_day_after_until() -> None:
    assert drops_on(D(2026, 3, 1), None, 10) == D(2026, 3, 11)
    assert drops_on(D(2026, 3, 1), D(2026, 3, 20), 10) == D(2026, 3, 31)
    assert drops_on(D(2026, 3, 1), D(2026, 2, 1), 0) == D(2026, 3, 1)


def test_what_keeps_a_tier_in_words() -> None:
    assert keep_words("Gold", "Gold", "1 more order or €140 to Gold", PROGRAM) == (
        "1 more order or €140 keeps you Gold"
    )
    # qualifying two tiers below: the progress is toward Silver, so the rule is given
    assert keep_words("Gold", "Silver", "2 more orders to Silver", PROGRAM) == (
        "qualifying for Gold again: at least 4 orders in 365 days or at least €500 spent in 90 days"
    )


def test_only_the_review_that_starts_a_fall_puts_a_customer_at_risk() -> None:
    today = D(2026, 3, 1)
    current = pd.DataFrame(
        {
            "contact_id": ["new", "old", "fine"],
            "tier": ["Gold", "Gold", "Silver"],
            "since": [D(2026, 1, 1)] * 3,
            "until": [D(2026, 1, 30), None, None],
            "falling_since": [None, D(2026, 2, 25), None],
        }
    )
    state = pd.DataFrame(
        {
            "contact_id": ["new", "old", "fine"],
            "tier": ["Gold", "Gold", "Silver"],
            "tier_rank": [3, 3, 2],
            "until": [D(2026, 1, 30), None, None],
            "falling_since": [today, D(2026, 2, 25), None],
        }
    )
    assigned = pd.DataFrame(
        {
            "contact_id": ["new", "old", "fine"],
            "tier_rank": [1, 2, 2],
            "next_tier": ["Silver", "Gold", "Gold"],
            "progress": ["1 more order to Silver", "1 more order to Gold", "2 more orders to Gold"],
        }
    )
    risky = at_risk(current, state, assigned, PROGRAM, today=today)
    assert risky.to_dict("records") == [
        {
            "contact_id": "new",
            "tier": "Gold",
            "to_tier": "Silver",  # one step down per review, though she qualifies for Member
            "drops_on": D(2026, 3, 11),
            "keep": "qualifying for Gold again: at least 4 orders in 365 days or at least €500 "
            "spent in 90 days",
            "keep_orders": None,  # orders alone lead to Silver first: no number keeps Gold
            "keep_spend": None,
        }
    ]


def test_what_keeps_a_tier_comes_in_numbers_too_with_the_day_to_order_by() -> None:
    today = D(2026, 3, 1)
    current = pd.DataFrame(
        {"contact_id": ["ana", "bea"], "falling_since": [None, None], "tier": ["Gold", "Gold"]}
    )
    state = pd.DataFrame(
        {
            "contact_id": ["ana", "bea"],
            "tier": ["Gold", "Gold"],
            "tier_rank": [3, 3],
            "until": [None, D(2026, 3, 20)],
            "falling_since": [today, today],
        }
    )
    assigned = pd.DataFrame(
        {
            "contact_id": ["ana", "bea"],
            "tier_rank": [2, 2],
            "next_tier": ["Gold", "Gold"],
            "orders_to_next": [1, None],
            "spend_to_next": [140.0, 35.5],
            "progress": ["1 more order or €140 to Gold", "€35.50 to Gold"],
        }
    )
    rows = at_risk(current, state, assigned, PROGRAM, today=today).to_dict("records")
    assert [properties(row) for row in rows] == [
        {
            "tier": "Gold",
            "to_tier": "Silver",
            "drops_on": "2026-03-11",
            "keep": "1 more order or €140 keeps you Gold",
            "keep_orders": 1,
            "keep_spend": 140.0,
            "keep_before": "2026-03-11",
        },
        {
            "tier": "Gold",
            "to_tier": "Silver",
            "drops_on": "2026-03-31",  # kept until 20 March, then ten days' grace
            "keep": "€35.50 keeps you Gold",
            "keep_orders": None,  # orders alone do not: spend does
            "keep_spend": 35.5,
            "keep_before": "2026-03-31",
        },
    ]


def test_the_progress_deadline_is_when_a_counted_order_leaves_its_window() -> None:
    today = D(2026, 6, 1)
    orders = [D(2026, 4, 1), D(2026, 5, 20), D(2025, 1, 1)]  # the last one counts nowhere
    # Gold reads a 365-day window (orders) and a 90-day one (spend): 1 April leaves the
    # 90-day window first, on 30 June
    assert deadline(orders, PROGRAM, "Gold", today=today) == D(2026, 6, 30)
    assert deadline(orders, PROGRAM, "Silver", today=today) == D(2027, 4, 1)
    assert deadline([D(2024, 1, 1)], PROGRAM, "Silver", today=today) is None
    assert deadline([], PROGRAM, "Member", today=today) is None  # no window read
    assert day_words(D(2026, 6, 30), today) == "30 June"
    assert day_words(D(2027, 4, 1), today) == "1 April 2027"


def test_the_tier_events_are_in_the_catalogue() -> None:
    for name in (UPGRADED, DOWNGRADED, AT_RISK):
        found = catalog.known(name.lower().replace(" ", "_"))
        assert found is not None
        assert (found.name, found.meaning) == (name, catalog.LOYALTY)
