"""Status points: each customer's points earned in the programme's windows, from the ledger.

What the tiers' ``points`` rules read (:class:`lealta.loyalty.rules.PointsRule`). A
customer's status points in a window of ``d`` days ending on ``as_of`` (excluded) are::

    sum of their earn and bonus entries written from as_of - d (midnight) to before as_of
      less, for each earn entry among them, what returns written before as_of took back
      of its order (points taken and points that could not be taken, being spent)

so redeeming, expiry and manual adjustments (debits and credits alike) leave status as it
is, and a returned order's points leave status once the return is written, however long
after the order. Entries of a profile merged into another count for the profile it was
merged into (one merge deep: the merge moves the balance by ``adjust`` entries, which are
not counted, so nothing counts twice).

One grouped query for every customer (or per 1,000 customers given: then through the
ledger's per-contact index); the windows are sums of a ``CASE`` each, like the orders and
spend windows of :mod:`lealta.loyalty.facts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from lealta.loyalty.facts import points_column
from lealta.loyalty.points import BONUS, EARN, RETURN
from lealta.loyalty.tables import PointsEntry

if TYPE_CHECKING:
    from lealta.loyalty.program import LoyaltyProgram

CHUNK = 1_000  # contact ids per IN list


def status_points(
    session: Session,
    program: LoyaltyProgram,
    *,
    as_of: dt.date,
    contact_ids: Sequence[str] | None = None,
) -> Any:
    """Per customer with status points (all of them, or those of ``contact_ids``):
    ``customer_id`` and ``points_{d}d`` (int64) for each window ``d`` of the programme's
    points rules, as a pandas DataFrame (no rows when the programme has no points rule)."""
    import pandas as pd

    days = program.points_windows()
    columns = ["customer_id", *(points_column(d) for d in days)]
    if not days:
        return pd.DataFrame(columns=columns)
    if contact_ids is None:
        rows = session.execute(_query(days, as_of, None)).all()
    else:
        wanted = sorted(set(contact_ids))
        rows = []
        for start in range(0, len(wanted), CHUNK):
            owners = wanted[start : start + CHUNK]
            profiles = owners + _merged_into(session, owners)
            rows += session.execute(_query(days, as_of, owners, profiles)).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    return frame.astype({"customer_id": "string", **dict.fromkeys(columns[1:], "int64")})


def _merged_into(session: Session, owners: list[str]) -> list[str]:
    """The profiles merged into one of ``owners``."""
    from lealta.contacts.tables import Contact

    return list(session.scalars(select(Contact.id).where(Contact.merged_into.in_(owners))))


def _query(
    days: list[int],
    as_of: dt.date,
    owners: list[str] | None = None,
    profiles: list[str] | None = None,
) -> Any:
    from lealta.contacts.tables import Contact

    end = dt.datetime.combine(as_of, dt.time())
    # a few customers: read only the ledgers of their ``profiles`` (theirs and those merged
    # into them; a return is written to the earning profile or to its survivor), through the
    # ledger's (contact_id, seq) index: a plain IN list, which every planner uses
    mine = [PointsEntry.contact_id.in_(profiles)] if profiles is not None else []
    settled = func.sum(-PointsEntry.points + func.coalesce(PointsEntry.unrecovered, 0))
    returned = (
        select(PointsEntry.order_id.label("order_id"), settled.label("back"))
        .where(
            PointsEntry.kind == RETURN,
            PointsEntry.order_id.is_not(None),
            PointsEntry.created_at < end,
            *mine,
        )
        .group_by(PointsEntry.order_id)
        .subquery()
    )
    left = PointsEntry.points - func.coalesce(returned.c.back, 0)
    kept = case(
        (PointsEntry.kind == BONUS, PointsEntry.points),
        (left > 0, left),
        else_=0,
    )
    starts = {d: end - dt.timedelta(days=d) for d in days}
    per_profile = (
        select(
            PointsEntry.contact_id.label("contact_id"),
            *(
                func.sum(case((PointsEntry.created_at >= starts[d], kept), else_=0)).label(f"p{d}")
                for d in days
            ),
        )
        .outerjoin(
            returned,
            (PointsEntry.kind == EARN) & (returned.c.order_id == PointsEntry.order_id),
        )
        .where(
            PointsEntry.kind.in_((EARN, BONUS)),
            PointsEntry.created_at >= starts[max(days)],
            PointsEntry.created_at < end,
            *mine,
        )
        .group_by(PointsEntry.contact_id)
        .subquery()
    )
    # profiles merged into another count for it: one row per profile to map, not per entry
    owner = func.coalesce(Contact.merged_into, per_profile.c.contact_id)
    query = (
        select(owner, *(func.coalesce(func.sum(per_profile.c[f"p{d}"]), 0) for d in days))
        .join(Contact, Contact.id == per_profile.c.contact_id)
        .group_by(owner)
    )
    return query.where(owner.in_(owners)) if owners is not None else query


def with_status_points(
    session: Session,
    scores: Any,
    program: LoyaltyProgram,
    *,
    as_of: dt.date,
    contact_ids: Sequence[str] | None = None,
) -> Any:
    """The assignment's ``scores`` frame (``customer_id`` and ``*_score`` columns) with the
    status points columns added (0 for a customer without any; customers with status points
    but no scores get a row with missing scores). ``scores`` itself when the programme has
    no points rule (nothing is read)."""
    if not program.points_windows():
        return scores
    found = status_points(session, program, as_of=as_of, contact_ids=contact_ids)
    return merge_points(scores, found)


def merge_points(scores: Any, points: Any) -> Any:
    """``scores`` with the ``points_{d}d`` columns of ``points`` (both keyed by
    ``customer_id``), 0 where a customer has none."""
    keyed = scores.astype({"customer_id": "string"})
    merged = keyed.merge(points, on="customer_id", how="outer")
    for column in points.columns.drop("customer_id"):
        merged[column] = merged[column].fillna(0).astype("int64")
    return merged


def point_columns(program: LoyaltyProgram) -> list[str]:
    """The facts columns of status points the programme's rules read."""
    return [points_column(d) for d in program.points_windows()]
