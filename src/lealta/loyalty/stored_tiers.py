"""``contact_tiers`` as a full review reads and writes it: every stored row, then only the
difference.

A review decides every customer's tier, but on most days few of them change. The review
reads every stored row once (:func:`read`, column by column), and :func:`write` compares
the new state with it in memory, a column at a time: only the rows that are new or differ
in a stored value (tier, rank, dates, score sum, reason, programme version) are written,
with ``computed_at`` the review's time, and the rows of customers no longer in a tier are
deleted. A review that changes nothing writes nothing; the first review inserts every row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lealta.loyalty.status import STATE_COLUMNS
from lealta.loyalty.tables import ContactTier

STORED_COLUMNS = (*STATE_COLUMNS, "program_version")
CHUNK = 5_000  # contact ids per DELETE


def read(session: Session) -> Any:
    """Every stored tier row as a pandas DataFrame of :data:`STORED_COLUMNS` (dates as
    ``datetime.date`` or None)."""
    from lealta.loyalty.service import _frame

    query = select(*[ContactTier.__table__.c[name] for name in STORED_COLUMNS])
    return _frame(session, query, list(STORED_COLUMNS))


def write(session: Session, state: Any, stored: Any, version: int, now: dt.datetime) -> int:
    """Make ``contact_tiers`` hold ``state`` (:data:`lealta.loyalty.status.STATE_COLUMNS`)
    by programme ``version``, ``stored`` being what it holds now (:func:`read`): delete the
    rows of contacts not in ``state`` or whose row differs, then write the rows that are new or
    differ; the number written."""
    import numpy as np
    import pandas as pd

    from lealta.loyalty.service import TIERS, _columns
    from lealta.storage import bulk

    state = state[list(STATE_COLUMNS)]
    if len(stored):
        at = pd.Index(stored["contact_id"]).get_indexer(state["contact_id"])
        known = at >= 0
        differs = ~known
        for name in STORED_COLUMNS[1:]:
            new = (
                np.full(len(state), version, dtype=object)
                if name == "program_version"
                else state[name].to_numpy(dtype=object)
            )
            old = stored[name].to_numpy(dtype=object)[np.where(known, at, 0)]
            differs |= known & ~_same(new, old)
        kept = np.zeros(len(stored), dtype=bool)
        kept[at[known & ~differs]] = True
        dropped = stored["contact_id"].to_numpy(dtype=object)[~kept]
        _delete(session, list(dropped), everything=not kept.any())
        state = state[differs]
    bulk.insert_columns(
        session.connection(),
        TIERS,
        _columns(state),
        shared={"program_version": version, "computed_at": now},
    )
    return len(state)


def _same(new: Any, old: Any) -> Any:
    """Elementwise: equal values, or both missing (None, NaN, NaT, ``pd.NA``)."""
    import numpy as np
    import pandas as pd

    missing_new, missing_old = pd.isna(new), pd.isna(old)
    equal = np.zeros(len(new), dtype=bool)
    both = ~missing_new & ~missing_old
    equal[both] = new[both] == old[both]
    return equal | (missing_new & missing_old)


def _delete(session: Session, ids: list[Any], *, everything: bool) -> None:
    """Delete the rows of ``ids`` (``everything``: they are every row, one statement)."""
    if everything:
        session.execute(delete(ContactTier))
        return
    for start in range(0, len(ids), CHUNK):
        session.execute(
            delete(ContactTier).where(ContactTier.contact_id.in_(ids[start : start + CHUNK]))
        )
