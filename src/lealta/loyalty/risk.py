"""A tier about to drop: who starts falling at a review, when they drop, what keeps them. Pure.

A customer *starts falling* at the review that first finds them qualifying below their tier
(:mod:`lealta.loyalty.status` sets ``falling_since`` to that day). That review, and only that
one, makes a ``Loyalty Tier At Risk`` event for them (once per fall: its id names the fall's
first day), with:

* ``tier``: the tier they hold; ``to_tier``: the tier they would drop to (null: none);
* ``drops_on``: the first day a review takes them down if nothing changes: the later of the
  fall's first day and the day after the tier's ``until``, plus ``grace_days``;
* ``keep``: what keeps the tier, in English words: ``1 more order keeps you Gold`` when
  orders or spend are all that is missing, else the tier's rule (``qualifying for Gold again:
  at least 4 orders in 365 days``);
* the same in numbers, for templates in any language: ``keep_orders`` (the fewest more orders
  that alone keep the tier), ``keep_spend`` (the least more spend that alone keeps it) and
  ``keep_before`` (the day by which: ``drops_on``, an order before it counts); the two
  amounts are null when orders or spend alone do not keep it (a score is missing too, or
  the tier is not the next one up from the tier qualified for).

A customer who drops at the very review that finds them below (no ``until`` left and no
grace) gets the downgrade event instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from lealta.loyalty.program import LoyaltyProgram
from lealta.loyalty.wording import describe

AT_RISK = "Loyalty Tier At Risk"
RISK_COLUMNS = ("contact_id", "tier", "to_tier", "drops_on", "keep", "keep_orders", "keep_spend")


def drops_on(falling_since: dt.date, until: dt.date | None, grace_days: int) -> dt.date:
    """The first day a falling customer goes down if nothing changes."""
    start = falling_since if until is None else max(falling_since, until + dt.timedelta(days=1))
    return start + dt.timedelta(days=grace_days)


def keep_words(tier: str, next_tier: Any, progress: Any, program: LoyaltyProgram) -> str:
    """What keeps ``tier``: the progress toward it when it is the next tier up from the one
    the customer qualifies for (``2 more orders or €140 keeps you Gold``), else its rule."""
    suffix = f" to {tier}"
    if next_tier == tier and isinstance(progress, str) and progress.endswith(suffix):
        return f"{progress.removesuffix(suffix)} keeps you {tier}"
    rule = program.tier(tier).qualify
    if rule is None:
        return f"staying eligible keeps you {tier}"
    return f"qualifying for {tier} again: {describe(rule, program)}"


def at_risk(
    current: Any, state: Any, assigned: Any, program: LoyaltyProgram, *, today: dt.date
) -> Any:
    """The customers who start falling at this review, as a pandas DataFrame of
    :data:`RISK_COLUMNS` (``drops_on`` a ``datetime.date``).

    ``current`` is the tiers before the review (``contact_id``, ``falling_since``), ``state``
    after it (:data:`lealta.loyalty.status.STATE_COLUMNS`), ``assigned`` the assignment
    (``contact_id``, ``tier_rank``, ``next_tier``, ``progress``, and ``orders_to_next``,
    ``spend_to_next`` when it has them).
    """
    import pandas as pd

    rules = program.status
    was_falling = set(current["contact_id"][current["falling_since"].notna()])
    starts = state[(state["falling_since"] == today) & ~state["contact_id"].isin(list(was_falling))]
    if starts.empty:
        return pd.DataFrame(columns=list(RISK_COLUMNS))
    missing = [None] * len(assigned)
    facts = {
        cid: (rank, nxt, words, orders, spend)
        for cid, rank, nxt, words, orders, spend in zip(
            assigned["contact_id"],
            assigned["tier_rank"],
            assigned["next_tier"],
            assigned["progress"],
            assigned.get("orders_to_next", missing),
            assigned.get("spend_to_next", missing),
            strict=True,
        )
    }
    names = program.tier_names()
    rows = []
    for cid, tier, rank, until in zip(
        starts["contact_id"], starts["tier"], starts["tier_rank"], starts["until"], strict=True
    ):
        qual, nxt, words, orders, spend = facts.get(cid, (None, None, None, None, None))
        qualified = 0 if qual is None or pd.isna(qual) else int(qual)
        steps = rules.max_steps_down
        floor = max(qualified, int(rank) - steps) if steps else qualified
        rows.append(
            {
                "contact_id": cid,
                "tier": tier,
                "to_tier": names[floor - 1] if floor > 0 else None,
                "drops_on": drops_on(today, None if pd.isna(until) else until, rules.grace_days),
                "keep": keep_words(tier, nxt, words, program),
                "keep_orders": _count(orders) if nxt == tier else None,
                "keep_spend": _amount(spend) if nxt == tier else None,
            }
        )
    return pd.DataFrame(rows, columns=list(RISK_COLUMNS))


def properties(row: Mapping[str, Any]) -> dict[str, Any]:
    """The ``Loyalty Tier At Risk`` event's properties for one row of :func:`at_risk`."""
    day = row["drops_on"].isoformat()
    return {
        "tier": row["tier"],
        "to_tier": row["to_tier"],
        "drops_on": day,
        "keep": row["keep"],
        "keep_orders": _count(row.get("keep_orders")),  # a frame may hold it as a float
        "keep_spend": _amount(row.get("keep_spend")),
        "keep_before": day,
    }


def _count(value: Any) -> int | None:
    return None if value is None or value != value else int(value)  # NaN is not itself


def _amount(value: Any) -> float | None:
    return None if value is None or value != value else round(float(value), 2)
