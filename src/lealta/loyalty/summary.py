"""Members and revenue per tier, from an assignment (see :mod:`lealta.loyalty.assign`)."""

from __future__ import annotations

from typing import Any

from lealta.loyalty.program import LoyaltyProgram

NO_TIER = "(no tier)"


def tier_summary(engine: Any, assigned: Any, program: LoyaltyProgram) -> Any:
    """Per tier, highest first, then customers in no tier: customers, revenue and shares.

    Parameters
    ----------
    engine
        The :class:`lealta.engines.Engine` that runs ``assigned``.
    assigned
        The output of :func:`lealta.loyalty.assign.assign_tiers`, with a ``revenue`` column.
    program
        The programme it was assigned with.

    Returns
    -------
    pandas.DataFrame
        ``tier``, ``customers``, ``customer_share``, ``revenue``, ``revenue_share``: every
        tier (zeros where empty) and a ``(no tier)`` row when some customer is in none.
        Shares are of all customers and all revenue; they are 0 when there are none.
    """
    import pandas as pd

    counts = engine.execute(
        assigned.group_by("tier_rank").aggregate(
            customers=assigned.count(), revenue=assigned.revenue.sum()
        )
    )
    found = {
        (None if pd.isna(row.tier_rank) else int(row.tier_rank)): (
            int(row.customers),
            float(row.revenue or 0.0),
        )
        for row in counts.itertuples(index=False)
    }
    rows = [
        (tier.name, *found.get(rank, (0, 0.0)))
        for rank, tier in reversed(list(enumerate(program.tiers, start=1)))
    ]
    if None in found:
        rows.append((NO_TIER, *found[None]))
    frame = pd.DataFrame(rows, columns=["tier", "customers", "revenue"])
    total_customers = int(frame["customers"].sum())
    total_revenue = float(frame["revenue"].sum())
    frame["customer_share"] = frame["customers"] / total_customers if total_customers else 0.0
    frame["revenue_share"] = frame["revenue"] / total_revenue if total_revenue else 0.0
    return frame[["tier", "customers", "customer_share", "revenue", "revenue_share"]]
