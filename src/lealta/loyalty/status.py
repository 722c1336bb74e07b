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

Around these rules, the review keeps tiers given by decision while they last
(:mod:`lealta.loyalty.overrides`: once one ends, the tier is held like any other, so a fall
and its grace follow, never a drop on the spot), and warns once per fall
(:mod:`lealta.loyalty.risk`: ``Loyalty Tier At Risk`` at the review that sets
``falling_since``). Partial reviews (:mod:`lealta.loyalty.partial`) take only the upward part.
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
    frame = _joined(current, assigned)
    had = frame["tier"].notna().to_numpy()
    cur = _ranks(frame["tier"], ranks)
    qual = pd.to_numeric(frame["tier_rank"]).fillna(0).astype("int64").to_numpy()
    kept = rules.kept_until(today)
    until = _days(frame["until"])
    day = np.datetime64(today, "D")

    below = qual < cur
    falling = np.where(below, _days(frame["falling_since"]), np.datetime64("NaT", "D"))
    falling[below & np.isnat(falling)] = day
    # a fall counts from the first review below, or from the day after ``until`` if later
    start = np.where(np.isnat(until), falling, np.maximum(falling, until + 1))
    due = below & (start + rules.grace_days <= day)
    floor = np.maximum(qual, cur - rules.max_steps_down) if rules.max_steps_down else qual
    new = np.where(below, np.where(due, floor, cur), qual)

    moved = (new != cur) | (had & (cur == 0) & (new == 0))
    renewed = (new == cur) & ~below & (new > 0)
    new_until = until.copy()
    kept_day = np.datetime64(kept, "D") if kept is not None else np.datetime64("NaT", "D")
    new_until[moved] = kept_day
    if kept is not None:
        new_until[renewed] = np.where(
            np.isnat(until[renewed]), kept_day, np.maximum(until[renewed], kept_day)
        )
    falling[moved] = np.datetime64("NaT", "D")
    since = frame["since"].to_numpy(dtype=object).copy()
    since[moved] = today

    reason = frame["qualified_by"].to_numpy(dtype=object).copy()
    holding = below & ~due
    reason[holding] = [
        _holding(f, u, rules.grace_days, today)
        for f, u in zip(_dates(falling[holding]), _dates(until[holding]), strict=True)
    ]
    stepped = below & due & (new > qual)
    reason[stepped] = f"at most {rules.max_steps_down} tier(s) down per review"

    old_names = frame["tier"].to_numpy(dtype=object).copy()
    old_names[~had] = None
    lookup = np.array([None, *(names[rank] for rank in sorted(names))], dtype=object)
    new_names = lookup[new]
    state = pd.DataFrame(
        {
            "contact_id": frame["contact_id"],
            "tier": new_names,
            "tier_rank": new,
            "since": since,
            "until": _dates(new_until),
            "falling_since": _dates(falling),
            "score_sum": frame["score_sum"],
            "qualified_by": reason,
        }
    )[new > 0].reset_index(drop=True)
    up = new > cur
    why = [
        f"qualified: {r}" if u else f"no longer qualifies for {o}" + (f"; {r}" if s else "")
        for r, u, o, s in zip(
            reason[moved], up[moved], old_names[moved], stepped[moved], strict=True
        )
    ]
    changes = pd.DataFrame(
        {
            "contact_id": frame["contact_id"][moved].to_numpy(dtype=object),
            "from_tier": old_names[moved],
            "to_tier": new_names[moved],
            "direction": np.where(up, "up", "down")[moved],
            "reason": np.array(why, dtype=object),
        }
    )
    return state, changes


def _joined(current: Any, assigned: Any) -> Any:
    """Each customer's current and assigned columns (an outer join on ``contact_id``), in
    contact id order, as pandas' outer merge gives them. With no one in a tier yet (a first
    review) the assigned rows with empty current columns: the merge would hash a million
    ids for nothing (about 1.5 s)."""
    import pandas as pd

    current = pd.DataFrame(current, columns=list(CURRENT_COLUMNS))
    assigned = pd.DataFrame(assigned, columns=list(ASSIGNED_COLUMNS))
    if len(current):
        return pd.merge(current, assigned, on="contact_id", how="outer")
    if not assigned["contact_id"].is_monotonic_increasing:
        assigned = assigned.sort_values("contact_id", kind="stable")
    frame = assigned.reset_index(drop=True)
    missing = pd.Series(None, index=frame.index, dtype=object)
    return pd.DataFrame({name: frame.get(name, missing) for name in _JOINED})


_JOINED = (*CURRENT_COLUMNS, *ASSIGNED_COLUMNS[1:])


def _ranks(names: Any, ranks: dict[str, int]) -> Any:
    """Each tier name's rank (case-insensitive; 0 for none or a tier the programme lacks)."""
    import numpy as np
    import pandas as pd

    values = names.to_numpy(dtype=object)
    known = pd.notna(values)
    out = np.zeros(len(values), dtype="int64")
    if known.any():
        folded = pd.Series(values[known], dtype=object).str.casefold()
        out[known] = folded.map(ranks).fillna(0).to_numpy(dtype="int64")
    return out


def _days(column: Any) -> Any:
    """A column of ``datetime.date`` or null as a numpy ``datetime64[D]`` array (NaT).

    Through pandas' parser: numpy converts an object array one Python object at a time
    (about 1 s for a million dates, or nulls, against 0.1 s)."""
    import pandas as pd

    values = column.to_numpy(dtype=object).copy()
    values[pd.isna(values)] = None
    return pd.to_datetime(pd.Series(values, dtype=object)).to_numpy().astype("datetime64[D]")


def _dates(days: Any) -> Any:
    """``datetime64[D]`` values as ``datetime.date`` objects, None for NaT."""
    return days.astype(object)


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
