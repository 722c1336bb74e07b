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

from sqlalchemy import CTE, ColumnElement, Select, Subquery, and_, case, func, or_, select
from sqlalchemy.orm import Session

from lealta.contacts.tables import Contact
from lealta.errors import InvalidInput
from lealta.events.names import named
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


def _segment_events(until: dt.datetime) -> CTE:
    """The segment events before ``until``, each with the segment it leaves the contact in,
    read once through the index on the lower-cased event name and time (materialised: SQLite
    would otherwise walk every event in contact order to feed the window)."""
    state = case(
        (Event.name == ENTERED, Event.properties["segment"].as_string()),
        else_=Event.properties["to"].as_string(),
    )
    return (
        select(Event.contact_id, Event.occurred_at.label("at"), Event.id, state.label("state"))
        .where(
            *named((ENTERED, LEFT)),
            Event.contact_id.is_not(None),
            Event.occurred_at < until,
        )
        .cte("segment_events")
        .prefix_with("MATERIALIZED")
    )


def states_on(history: Subquery | CTE, start: dt.date, end: dt.date) -> Subquery:
    """Each contact of ``history`` with ``was`` (their state at the end of ``start``) and
    ``now`` (at the end of ``end``); ``NULL`` when they had none.

    ``history`` holds one row per move up to the end of ``end``: ``contact_id``, ``at`` (its
    time), ``id`` (breaks ties between moves at the same time: the higher is the later) and
    ``state`` (the state it leaves the contact in, ``NULL`` for none). One pass over it: two
    rankings of each contact's moves, newest first."""
    newest = (history.c.at.desc(), history.c.id.desc())
    early = history.c.at < end_of(start)
    ranked = select(
        history.c.contact_id,
        history.c.state,
        early.label("early"),
        func.row_number().over(partition_by=history.c.contact_id, order_by=newest).label("last"),
        func.row_number()
        .over(partition_by=(history.c.contact_id, early), order_by=newest)
        .label("last_early"),
    ).subquery()
    pick = ranked.c
    return (
        select(
            pick.contact_id,
            func.max(case((and_(pick.early, pick.last_early == 1), pick.state))).label("was"),
            func.max(case((pick.last == 1, pick.state))).label("now"),
        )
        .group_by(pick.contact_id)
        .subquery()
    )


def segments_on(start: dt.date, end: dt.date) -> Subquery:
    """Each contact with a move by the end of ``end``: ``contact_id``, ``was`` (their segment
    at the end of ``start``) and ``now`` (at the end of ``end``); ``NULL`` when they had none
    (:func:`states_on` over the segment events)."""
    return states_on(_segment_events(end_of(end)), start, end)


def _moves(states: Subquery) -> Select[tuple[str]]:
    """The live contacts of ``states`` (:func:`states_on`) with a state on either day."""
    return (
        select(states.c.contact_id)
        .join(Contact, Contact.id == states.c.contact_id)
        .where(
            Contact.merged_into.is_(None),
            Contact.erased_at.is_(None),
            or_(states.c.was.is_not(None), states.c.now.is_not(None)),
        )
    )


def matrix(session: Session, states: Subquery, start: dt.date, end: dt.date) -> Movements:
    """The migration matrix of ``states`` (:func:`states_on` from ``start`` to ``end``): live
    contacts counted by their state on each day."""
    rows = session.execute(
        _moves(states)
        .with_only_columns(states.c.was, states.c.now, func.count())
        .group_by(states.c.was, states.c.now)
    ).all()
    return Movements(start, end, {(a, b): int(n) for a, b, n in rows})


def moved_between(states: Subquery, before: str | None, after: str | None) -> ColumnElement[bool]:
    """A condition on ``Contact.id``: the live contacts of ``states`` (:func:`states_on`) in
    ``before`` on the first day and ``after`` on the second (``None``: in none)."""
    matches = [
        states.c.was.is_(None) if before is None else states.c.was == before,
        states.c.now.is_(None) if after is None else states.c.now == after,
    ]
    return Contact.id.in_(_moves(states).where(and_(*matches)))


def movements(session: Session, start: dt.date, end: dt.date) -> Movements:
    """The migration matrix from ``start`` to ``end`` (both whole days, UTC).

    Raises
    ------
    InvalidInput
        When ``start`` is after ``end`` (field ``from``).
    """
    check_dates(start, end)
    return matrix(session, segments_on(start, end), start, end)


def movers(
    start: dt.date, end: dt.date, before: str | None, after: str | None
) -> ColumnElement[bool]:
    """A condition on ``Contact.id``: the contacts in ``before`` on ``start`` and ``after`` on
    ``end`` (``None``: new / gone), for contact lists and exports."""
    return moved_between(segments_on(start, end), before, after)


def run_days(session: Session, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """Default dates for the matrix: the days of the last two RFM runs that moved anyone (the
    latest scoring's day second), or the latest scoring's day and 30 days before it (``today``
    and 30 days before before any scoring)."""
    latest = session.scalar(select(func.max(ContactRfm.computed_at)))
    moved = _latest(session)
    found = [moment for moment in (latest, moved) if moment is not None]
    if not found:
        return _span(today)
    end = max(found).date()
    earlier = _latest(session, before=end_of(end - dt.timedelta(days=1)))
    return (earlier.date(), end) if earlier is not None else _span(end)


def _latest(session: Session, before: dt.datetime | None = None) -> dt.datetime | None:
    """The time of the newest segment event (before ``before``), one index descent per name."""
    found = []
    for name in (ENTERED, LEFT):
        query = select(func.max(Event.occurred_at)).where(*named([name]))
        if before is not None:
            query = query.where(Event.occurred_at < before)
        found.append(session.scalar(query))
    moments = [moment for moment in found if moment is not None]
    return max(moments) if moments else None


def _span(end: dt.date) -> tuple[dt.date, dt.date]:
    return end - dt.timedelta(days=DEFAULT_SPAN_DAYS), end
