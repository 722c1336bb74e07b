"""A review: each customer's new tier from their current one, the tier they qualify for and
the programme's status rules. Pure (pandas in, pandas out; the day is an argument).

Rules, applied at every review on day ``today``:

* **Up**: a customer qualifying above their tier moves up at once; the tier is kept until
  :meth:`~lealta.loyalty.program.StatusRules.kept_until` of ``today``.
* **Staying**: qualifying for their own tier renews it: ``until`` becomes the later of the
  old ``until`` and ``kept_until(today)``.
* **Down**: a customer qualifying below their tier (or for none) starts *falling* on the
  first such review (``falling_since``). They go down on the first review on or after the
  later of ``falling_since`` and the day after ``until``, plus ``grace_days``; then by at
  most ``max_steps_down`` tiers, and the lower tier is kept from ``today`` like a tier
  reached. Qualifying for their tier again ends the fall.
* A current tier the programme no longer has counts as no tier (the customer's qualified
  tier replaces it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lealta.loyalty.program import LoyaltyProgram

CURRENT_COLUMNS = ("contact_id", "tier", "since", "until", "falling_since")
ASSIGNED_COLUMNS = ("contact_id", "tier_rank", "score_sum", "qualified_by")
STATE_COLUMNS = (
    "contact_id", "tier", "tier_rank", "since", "until", "falling_since", "score_sum",
    "qualified_by",
)  # fmt: skip
CHANGE_COLUMNS = ("contact_id", "from_tier", "to_tier", "direction", "reason")


def review(
    current: Any, assigned: Any, program: LoyaltyProgram, *, today: dt.date
) -> tuple[Any, Any]:
    """The tiers after a review, and the changes it made.

    Parameters
    ----------
    current
        pandas DataFrame of :data:`CURRENT_COLUMNS`: customers in a tier now (dates as
        ``datetime.date`` or null).
    assigned
        pandas DataFrame of :data:`ASSIGNED_COLUMNS`: each customer's qualified tier rank
        (1 = lowest; null: none), from :func:`lealta.loyalty.assign.assign_tiers`.

    Returns
    -------
    (state, changes)
        ``state``: :data:`STATE_COLUMNS`, one row per customer in a tier after the review.
        ``changes``: :data:`CHANGE_COLUMNS`, one row per customer whose tier changed;
        ``direction`` is ``up`` or ``down``, ``from_tier``/``to_tier`` null for no tier.
    """
    import numpy as np
    import pandas as pd

    rules = program.status
    ranks = {name.casefold(): rank for rank, name in enumerate(program.tier_names(), start=1)}
    names = dict(enumerate(program.tier_names(), start=1))
    frame = pd.merge(
        pd.DataFrame(current, columns=list(CURRENT_COLUMNS)),
        pd.DataFrame(assigned, columns=list(ASSIGNED_COLUMNS)),
        on="contact_id",
        how="outer",
    )
    had = frame["tier"].notna().to_numpy()
    cur = np.array(
        [ranks.get(n.casefold(), 0) if isinstance(n, str) else 0 for n in frame["tier"]],
        dtype="int64",
    )
    qual = pd.to_numeric(frame["tier_rank"]).fillna(0).astype("int64").to_numpy()
    kept = rules.kept_until(today)
    until = frame["until"].to_numpy(dtype=object)
    falling = frame["falling_since"].to_numpy(dtype=object)

    below = qual < cur
    falling = np.array(
        [(today if _missing(f) else f) if b else None for f, b in zip(falling, below, strict=True)],
        dtype=object,
    )
    start = [
        max(f, u + dt.timedelta(days=1)) if u is not None and not pd.isna(u) else f
        for f, u in zip(falling[below], until[below], strict=True)
    ]
    due = np.zeros(len(frame), dtype=bool)
    due[below] = [s + dt.timedelta(days=rules.grace_days) <= today for s in start]
    floor = np.maximum(qual, cur - rules.max_steps_down) if rules.max_steps_down else qual
    new = np.where(below, np.where(due, floor, cur), qual)

    moved = (new != cur) | (had & (cur == 0) & (new == 0))
    renewed = (new == cur) & ~below & (new > 0)
    new_until = np.array(until, dtype=object)
    new_until[moved] = kept
    if kept is not None:
        new_until[renewed] = [
            kept if u is None or pd.isna(u) else max(u, kept) for u in until[renewed]
        ]
    falling[moved] = None
    since = frame["since"].to_numpy(dtype=object).copy()
    since[moved] = today

    reason = frame["qualified_by"].to_numpy(dtype=object).copy()
    holding = below & ~due
    reason[holding] = [
        _holding(f, u, rules.grace_days, today)
        for f, u in zip(falling[holding], until[holding], strict=True)
    ]
    stepped = below & due & (new > qual)
    reason[stepped] = f"at most {rules.max_steps_down} tier(s) down per review"

    old_names = frame["tier"].to_numpy(dtype=object)
    new_names = np.array([names.get(int(r)) for r in new], dtype=object)
    state = pd.DataFrame(
        {
            "contact_id": frame["contact_id"],
            "tier": new_names,
            "tier_rank": new,
            "since": since,
            "until": new_until,
            "falling_since": falling,
            "score_sum": frame["score_sum"],
            "qualified_by": reason,
        }
    )[new > 0].reset_index(drop=True)
    up = new > cur
    why = [
        f"qualified: {r}" if u else f"no longer qualifies for {o}" + (f"; {r}" if s else "")
        for r, u, o, s in zip(reason, up, old_names, stepped, strict=True)
    ]
    changes = pd.DataFrame(
        {
            "contact_id": frame["contact_id"],
            "from_tier": [o if h else None for o, h in zip(old_names, had, strict=True)],
            "to_tier": new_names,
            "direction": np.where(up, "up", "down"),
            "reason": why,
        }
    )[moved].reset_index(drop=True)
    return state, changes


def _holding(falling: dt.date, until: Any, grace: int, today: dt.date) -> str:
    """Why a customer below their tier keeps it for now."""
    start = falling
    if until is not None and not _missing(until):
        if until >= today:
            return f"kept until {until.isoformat()}"
        start = max(falling, until + dt.timedelta(days=1))
    return f"in grace until {(start + dt.timedelta(days=grace - 1)).isoformat()}"


def _missing(value: Any) -> bool:
    import pandas as pd

    return bool(pd.isna(value))
