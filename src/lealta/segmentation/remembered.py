"""The segments page's figures, remembered until the next scoring.

Segment sizes, the R x F grid, cluster profiles and moves between segments change only when
``contact_rfm`` does: at a scoring (every row then carries its time), or when a scored contact
is erased. So they are remembered (:class:`lealta.storage.memo.Memo`) under the scoring's stamp
(the latest ``computed_at``, through its index, and the number of scored contacts), and a page
at a million contacts reads two index lookups instead of every scored contact and every
segment event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.segmentation.movements import Movements, movements, run_days
from lealta.segmentation.summary import ClusterProfile, SegmentsReport, cluster_profiles
from lealta.segmentation.summary import segments_report as compute_report
from lealta.segmentation.tables import ContactRfm
from lealta.storage.memo import Memo


def scoring_stamp(session: Session) -> Hashable:
    """What changes whenever the segment figures may: the latest scoring time and the number
    of scored contacts."""
    latest = session.scalar(select(func.max(ContactRfm.computed_at)))
    scored = session.scalar(select(func.count()).select_from(ContactRfm))
    return (latest.isoformat() if latest else None, int(scored or 0))


def segments_report(memo: Memo, session: Session) -> SegmentsReport:
    """:func:`lealta.segmentation.summary.segments_report`, remembered until the next
    scoring."""
    return memo.get(("segments", scoring_stamp(session)), lambda: compute_report(session))


def clusters(memo: Memo, session: Session) -> list[ClusterProfile]:
    """The cluster profiles, remembered until the next scoring."""
    return memo.get(("clusters", scoring_stamp(session)), lambda: cluster_profiles(session))


def moves(memo: Memo, session: Session, start: dt.date, end: dt.date) -> Movements:
    """The migration matrix from ``start`` to ``end``, remembered until the next scoring."""
    key = ("moves", scoring_stamp(session), start, end)
    return memo.get(key, lambda: movements(session, start, end))


def default_days(memo: Memo, session: Session, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """The matrix's default dates (the last two runs), remembered until the next scoring."""
    key = ("run days", scoring_stamp(session), today)
    return memo.get(key, lambda: run_days(session, today=today))
