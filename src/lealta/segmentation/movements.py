"""Movement between RFM segments from one date to another (the migration matrix).

Every RFM recomputation records each change of segment as events: ``Segment Entered``
(``segment``, ``from``) and ``Segment Left`` (``segment``, ``to``), both at the time of the
run. A contact's segment on day D (the end of that day, UTC) is therefore told by their latest
such event up to then: the segment entered, or the segment a ``Segment Left`` led ``to`` (none
when they left scoring altogether). The two events of one move agree, so a tie between them
needs no rule.

The matrix is one SQL statement over those events (a window function ranks each contact's
events; bound values only), on SQLite and PostgreSQL alike. Contacts with no segment on the
first day are *new*; with none on the second day, *gone*. Merged and erased contacts are left
out, as from every contact list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, Subquery, and_, case, func, or_, select
from sqlalchemy.orm import Session

from lealta.contacts.tables import Contact
from lealta.errors import InvalidInput
from lealta.events.tables import Event
from lealta.segmentation.tables import ContactRfm

ENTERED = "Segment Entered"
LEFT = "Segment Left"
DEFAULT_SPAN_DAYS = 30
NEW = None  # no segment on the first day
GONE = None  # no segment on the second day


@dataclass(frozen=True)
class Movements:
    """How many contacts were in segment ``a`` on ``start`` and in ``b`` on ``end``.

    ``cells`` maps ``(from, to)`` to a count; ``None`` on the left is "new" (no segment on
    ``start``), on the right "gone" (no segment on ``end``). Pairs nobody made are absent.
    """

    start: dt.date
    end: dt.date
    cells: dict[tuple[str | None, str | None], int]

    def count(self, before: str | None, after: str | None) -> int:
        """Contacts in ``before`` on the first day and in ``after`` on the second."""
        return self.cells.get((before, after), 0)

    def segments(self, order: Sequence[str] = ()) -> list[str]:
        """Every segment named in the matrix: those in ``order`` first, in it, then the rest
        alphabetically."""
        named = {s for pair in self.cells for s in pair if s is not None}
        first = [s for s in order if s in named]
        return first + sorted(named - set(first))

    def moved(self) -> int:
        """Contacts whose segment changed (new and gone included)."""
        return sum(n for (a, b), n in self.cells.items() if a != b)


def end_of(day: dt.date) -> dt.datetime:
    """The first moment after ``day`` (UTC): "on day D" means before this."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def check_dates(start: dt.date, end: dt.date) -> None:
    """Refuse a first date after the second (naming the field)."""
    if start > end:
        raise InvalidInput(
            f"from ({start.isoformat()}) must not be after to ({end.isoformat()})", field="from"
        )


def segment_on(day: dt.date) -> Subquery:
    """Each contact's segment at the end of ``day``: columns ``contact_id``, ``segment``
    (``NULL`` when their latest move took them out of scoring); contacts with no move by then
    are absent."""
    state = case(
        (Event.name == ENTERED, Event.properties["segment"].as_string()),
        else_=Event.properties["to"].as_string(),
    )
    rank = func.row_number().over(
        partition_by=Event.contact_id, order_by=(Event.occurred_at.desc(), Event.id.desc())
    )
    ranked = (
        select(Event.contact_id, state.label("segment"), rank.label("rank"))
        .where(
            Event.name.in_((ENTERED, LEFT)),
            Event.contact_id.is_not(None),
            Event.occurred_at < end_of(day),
        )
        .subquery()
    )
    return select(ranked.c.contact_id, ranked.c.segment).where(ranked.c.rank == 1).subquery()


def _moves(start: dt.date, end: dt.date) -> tuple[Subquery, Subquery, Select[tuple[str]]]:
    """Both days' segments, joined per live contact (everyone with a segment on the first day
    had a move by the second, so the second day's contacts are all of them)."""
    before, after = segment_on(start), segment_on(end)
    joined = (
        select(after.c.contact_id)
        .select_from(after)
        .outerjoin(before, before.c.contact_id == after.c.contact_id)
        .join(Contact, Contact.id == after.c.contact_id)
        .where(
            Contact.merged_into.is_(None),
            Contact.erased_at.is_(None),
            or_(before.c.segment.is_not(None), after.c.segment.is_not(None)),
        )
    )
    return before, after, joined


def movements(session: Session, start: dt.date, end: dt.date) -> Movements:
    """The migration matrix from ``start`` to ``end`` (both whole days, UTC).

    Raises
    ------
    InvalidInput
        When ``start`` is after ``end`` (field ``from``).
    """
    check_dates(start, end)
    before, after, joined = _moves(start, end)
    rows = session.execute(
        joined.with_only_columns(before.c.segment, after.c.segment, func.count()).group_by(
            before.c.segment, after.c.segment
        )
    ).all()
    return Movements(start, end, {(a, b): int(n) for a, b, n in rows})


def movers(
    start: dt.date, end: dt.date, before: str | None, after: str | None
) -> ColumnElement[bool]:
    """A condition on ``Contact.id``: the contacts in ``before`` on ``start`` and ``after`` on
    ``end`` (``None``: new / gone), for contact lists and exports."""
    was, now, joined = _moves(start, end)
    matches = [
        was.c.segment.is_(None) if before is None else was.c.segment == before,
        now.c.segment.is_(None) if after is None else now.c.segment == after,
    ]
    return Contact.id.in_(joined.where(and_(*matches)))


def run_days(session: Session, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """Default dates for the matrix: the days of the last two RFM runs that moved anyone (the
    latest scoring's day second), or the latest scoring's day and 30 days before it (``today``
    and 30 days before before any scoring)."""
    latest = session.scalar(select(func.max(ContactRfm.computed_at)))
    moved = session.scalar(
        select(func.max(Event.occurred_at)).where(Event.name.in_((ENTERED, LEFT)))
    )
    found = [moment for moment in (latest, moved) if moment is not None]
    if not found:
        return _span(today)
    end = max(found).date()
    earlier = session.scalar(
        select(func.max(Event.occurred_at)).where(
            Event.name.in_((ENTERED, LEFT)), Event.occurred_at < end_of(end - dt.timedelta(days=1))
        )
    )
    return (earlier.date(), end) if earlier is not None else _span(end)


def _span(end: dt.date) -> tuple[dt.date, dt.date]:
    return end - dt.timedelta(days=DEFAULT_SPAN_DAYS), end
