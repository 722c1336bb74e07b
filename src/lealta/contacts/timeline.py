"""The single customer view: everything that happened to one person, newest first.

Five sources are merged: events, orders, lifecycle stage changes, score changes and consent
decisions, of the contact and of every profile merged into it. Entries are ordered by
``(at, kind, id)`` descending, and a page ends with a ``before`` cursor ``TIME~KIND~ID`` that
resumes exactly after its last entry (a plain ISO time works too: strictly older entries).

The summary shows the person's workflow runs (workflow, current step, status, exit reason;
the newest :data:`RUNS_SHOWN`) and the messages held for their quiet hours, each with the
reason and when it goes out: neither is an event in the past, so neither is an entry.

Two sources would say the same thing twice, so each is shown once: a stage change as a
``stage`` entry (its ``Lifecycle Stage Changed`` event is left out), and an ``Order
Completed`` event that was stored as an order as the ``order`` entry.

A page can be limited to one kind (:mod:`lealta.contacts.timeline_kinds`) in the queries
themselves, so each page of a filtered timeline is full until its oldest matching entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from lealta.automations import runs
from lealta.channels.tables import OutboxMessage
from lealta.contacts.profiles import (
    consent_in_force,
    identifiers_by_kind,
    memberships_of,
    score_now,
    tags_of,
)
from lealta.contacts.schemas import (
    HeldMessage,
    Timeline,
    TimelineEntry,
    TimelineRun,
    TimelineSummary,
    as_utc,
)
from lealta.contacts.service import person_ids
from lealta.contacts.tables import Consent, Contact
from lealta.contacts.timeline_kinds import EVENT_FAMILIES, KINDS, check_kind
from lealta.errors import InvalidInput
from lealta.events import catalog
from lealta.events.tables import Event
from lealta.lifecycle.service import STAGE_CHANGED
from lealta.lifecycle.tables import StageChange
from lealta.orders.tables import Order
from lealta.rulesets.service import scoring_model
from lealta.scoring.tables import ScoreChange

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
RUNS_SHOWN = 20
HELD_SHOWN = 50


@dataclass(frozen=True)
class Cursor:
    """Where a page stops: entries sorting before (at, kind, id) come next.

    Without a kind, every entry strictly older than ``at`` comes next.
    """

    at: dt.datetime
    kind: str | None = None
    id: int = 0


@dataclass(frozen=True)
class Row:
    """An entry with the key it sorts by."""

    entry: TimelineEntry
    id: int

    @property
    def key(self) -> tuple[dt.datetime, str, int]:
        """The sort key: newest first means descending."""
        return self.entry.at, self.entry.kind, self.id

    @property
    def cursor(self) -> Cursor:
        """The cursor that resumes right after this row."""
        return Cursor(self.entry.at, self.entry.kind, self.id)


# -- cursors and titles (pure) ---------------------------------------------------------------


def parse_before(text: str) -> Cursor:
    """A cursor from ``TIME`` or ``TIME~KIND~ID`` (TIME in ISO 8601, ``Z`` allowed)."""
    parts = text.strip().split("~")
    try:
        at = as_utc(dt.datetime.fromisoformat(parts[0].replace(" ", "+")))
        if len(parts) == 1:
            return Cursor(at)
        kind, number = parts[1], int(parts[2])
    except (ValueError, IndexError):
        raise InvalidInput(
            f"before must be an ISO 8601 time or a next_before value, not {text!r}",
            field="before",
        ) from None
    if len(parts) != 3 or kind not in KINDS:
        raise InvalidInput(f"before {text!r} is not a next_before value", field="before")
    return Cursor(at, kind, number)


def format_cursor(cursor: Cursor) -> str:
    """The text :func:`parse_before` reads back."""
    stamp = as_utc(cursor.at).isoformat().replace("+00:00", "Z")
    return stamp if cursor.kind is None else f"{stamp}~{cursor.kind}~{cursor.id}"


def number(value: float | Decimal) -> str:
    """``5.0`` → ``"5"``, ``2.50`` → ``"2.5"``: points as people write them."""
    rounded = round(float(value), 2)
    return str(int(rounded)) if rounded.is_integer() else f"{rounded:g}"


def event_title(kind: str, name: str | None, properties: Mapping[str, Any]) -> str:
    """Human text for an event, e.g. ``Viewed page Pricing``."""
    if kind == "track":
        return name or "Event"
    if kind in ("page", "screen"):
        where = name or properties.get("title") or properties.get("path") or properties.get("url")
        return f"Viewed {kind} {where}" if where else f"Viewed a {kind}"
    if kind == "identify":
        traits = sorted(properties)
        shown = ", ".join(traits[:5]) + (" …" if len(traits) > 5 else "")
        return f"Identified ({shown})" if traits else "Identified"
    if kind == "alias":
        return f"Alias of {properties.get('previousId', 'an earlier id')}"
    if kind == "group":
        return f"Joined group {name}" if name else "Joined a group"
    return name or kind


def order_title(amount: Decimal, currency: str) -> str:
    """``Order Completed · 49.90 EUR``."""
    return f"Order Completed · {Decimal(amount):.2f} {currency}"


def stage_title(from_stage: str | None, to_stage: str, rule_id: str) -> str:
    """``Stage Prospect → Lead (rule form)``."""
    start = f"{from_stage} " if from_stage else ""
    return f"Stage {start}→ {to_stage} (rule {rule_id})"


def score_title(points: float, rule_id: str, score_after: float) -> str:
    """``+5 points (pricing-page) → 35``."""
    sign = "+" if points >= 0 else "-"
    unit = "point" if abs(points) == 1 else "points"
    return f"{sign}{number(abs(points))} {unit} ({rule_id}) → {number(score_after)}"


def consent_title(channel: str, status: str, source: str) -> str:
    """``Consent email granted (via form:newsletter)``."""
    via = f" (via {source})" if source else ""
    return f"Consent {channel} {status}{via}"


# -- the view ------------------------------------------------------------------------------


def timeline(
    session: Session,
    contact: Contact,
    *,
    now: dt.datetime,
    limit: int = DEFAULT_LIMIT,
    before: str | None = None,
    kind: str | None = None,
) -> Timeline:
    """The summary of ``contact`` and one page of its entries, newest first; only those of
    ``kind`` (one of :data:`FILTERS`) when it is given."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    sources = _sources(check_kind(kind))
    ids = person_ids(session, contact.id)
    cursor = parse_before(before) if before else None
    entries: list[TimelineEntry] = []
    more = True
    while more and len(entries) < limit:
        wanted = limit - len(entries)
        batch = _take(session, ids, cursor, wanted + 1, sources)
        more = len(batch) > wanted
        batch = batch[:wanted]
        if not batch:
            break
        cursor = batch[-1].cursor
        entries += [row.entry for row in _without_order_events(session, ids, batch)]
    return Timeline(
        profile=summary(session, contact, ids, now=now),
        entries=entries,
        next_before=format_cursor(cursor) if more and cursor is not None else None,
    )


def summary(
    session: Session, contact: Contact, ids: Sequence[str], *, now: dt.datetime
) -> TimelineSummary:
    """The person at a glance: orders and revenue, stage, score, tags, lists, consent."""
    orders = 0
    revenue: dict[str, Decimal] = {}
    last_order: dt.datetime | None = None
    rows = session.execute(
        select(Order.currency, func.count(), func.sum(Order.amount), func.max(Order.placed_at))
        .where(Order.contact_id.in_(ids))
        .group_by(Order.currency)
        .order_by(Order.currency)
    )
    for currency, count, total, latest in rows:
        orders += int(count)
        revenue[currency] = Decimal(total or 0).quantize(Decimal("0.01"))
        latest = as_utc(latest)
        last_order = latest if last_order is None or latest > last_order else last_order
    return TimelineSummary(
        id=contact.id,
        identifiers=identifiers_by_kind(session, [contact.id]).get(contact.id, {}),
        lifecycle_stage=contact.lifecycle_stage,
        score=score_now(scoring_model(session), contact, now),
        orders=orders,
        revenue=revenue,
        last_order_at=last_order,
        first_seen_at=contact.first_seen_at,
        last_seen_at=contact.last_seen_at,
        tags=tags_of(session, [contact.id]).get(contact.id, []),
        lists=memberships_of(session, [contact.id]).get(contact.id, []),
        consent=consent_in_force(session, [contact.id]).get(contact.id, {}),
        workflow_runs=workflow_runs(session, ids),
        held_messages=held_messages(session, ids),
    )


def workflow_runs(session: Session, ids: Sequence[str]) -> list[TimelineRun]:
    """The person's newest workflow runs, with where each stands."""
    return [
        TimelineRun(
            id=run.id,
            workflow_id=run.workflow_id,
            workflow=name,
            status=run.status,
            step_id=run.step_id,
            wake_at=run.wake_at,
            exit_reason=run.exit_reason,
            entered_at=run.entered_at,
            updated_at=run.updated_at,
        )
        for run, name in runs.of_contacts(session, ids, limit=RUNS_SHOWN)
    ]


def held_messages(session: Session, ids: Sequence[str]) -> list[HeldMessage]:
    """The person's messages held for quiet hours, the soonest to go out first."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.contact_id.in_(ids), OutboxMessage.status == "held")
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(HELD_SHOWN)
    )
    return [
        HeldMessage(
            id=row.id,
            channel=row.channel,
            template=row.template,
            run_id=row.run_id,
            until=row.not_before,
            reason=row.error,
        )
        for row in rows
    ]


def _take(
    session: Session, ids: Sequence[str], cursor: Cursor | None, n: int, sources: Sources
) -> list[Row]:
    """The ``n`` newest rows after ``cursor`` across ``sources``."""
    rows: list[Row] = []
    for source in sources:
        rows += source(session, ids, cursor, n)
    rows.sort(key=lambda row: row.key, reverse=True)
    return rows[:n]


def _after(
    cursor: Cursor | None,
    kind: str,
    at: InstrumentedAttribute[dt.datetime],
    row_id: InstrumentedAttribute[int],
) -> ColumnElement[bool]:
    """Rows of source ``kind`` that sort after ``cursor`` (descending order).

    Within the cursor's own kind, ``at <= cursor.at`` comes first on its own: it bounds the
    walk of each ``(contact, time)`` index, so a deep page starts at the cursor instead of
    reading every newer row and discarding it; the tie at ``cursor.at`` is broken by id."""
    if cursor is None:
        return true()
    if cursor.kind is None or kind > cursor.kind:
        return at < cursor.at
    if kind < cursor.kind:
        return at <= cursor.at
    return and_(at <= cursor.at, or_(at < cursor.at, row_id < cursor.id))


def _events(
    session: Session,
    ids: Sequence[str],
    cursor: Cursor | None,
    n: int,
    names: Sequence[str] = (),
) -> list[Row]:
    named = (
        Event.name.in_(names) if names else or_(Event.name.is_(None), Event.name != STAGE_CHANGED)
    )
    query = (
        select(Event)
        .where(
            Event.contact_id.in_(ids),
            named,
            _after(cursor, "event", Event.occurred_at, Event.id),
        )
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(n)
    )
    return [
        Row(
            TimelineEntry(
                at=e.occurred_at,
                kind="event",
                title=event_title(e.type, e.name, e.properties or {}),
                details={
                    "type": e.type,
                    "name": e.name,
                    "message_id": e.message_id,
                    "properties": dict(e.properties or {}),
                },
            ),
            e.id,
        )
        for e in session.scalars(query)
    ]


def _orders(session: Session, ids: Sequence[str], cursor: Cursor | None, n: int) -> list[Row]:
    query = (
        select(Order)
        .where(Order.contact_id.in_(ids), _after(cursor, "order", Order.placed_at, Order.id))
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(n)
    )
    return [
        Row(
            TimelineEntry(
                at=o.placed_at,
                kind="order",
                title=order_title(o.amount, o.currency),
                details={
                    "order_id": o.external_id,
                    "amount": str(Decimal(o.amount).quantize(Decimal("0.01"))),
                    "currency": o.currency,
                    "items": list(o.items or []),
                    "channel": o.channel,
                    "payment_method": o.payment_method,
                },
            ),
            o.id,
        )
        for o in session.scalars(query)
    ]


def _stages(session: Session, ids: Sequence[str], cursor: Cursor | None, n: int) -> list[Row]:
    query = (
        select(StageChange)
        .where(
            StageChange.contact_id.in_(ids),
            _after(cursor, "stage", StageChange.changed_at, StageChange.id),
        )
        .order_by(StageChange.changed_at.desc(), StageChange.id.desc())
        .limit(n)
    )
    return [
        Row(
            TimelineEntry(
                at=s.changed_at,
                kind="stage",
                title=stage_title(s.from_stage, s.to_stage, s.rule_id),
                details={
                    "from": s.from_stage,
                    "to": s.to_stage,
                    "rule": s.rule_id,
                    "cause": s.cause,
                },
            ),
            s.id,
        )
        for s in session.scalars(query)
    ]


def _scores(session: Session, ids: Sequence[str], cursor: Cursor | None, n: int) -> list[Row]:
    query = (
        select(ScoreChange)
        .where(
            ScoreChange.contact_id.in_(ids),
            _after(cursor, "score", ScoreChange.occurred_at, ScoreChange.id),
        )
        .order_by(ScoreChange.occurred_at.desc(), ScoreChange.id.desc())
        .limit(n)
    )
    return [
        Row(
            TimelineEntry(
                at=s.occurred_at,
                kind="score",
                title=score_title(s.points, s.rule_id, s.score_after),
                details={
                    "rule": s.rule_id,
                    "points": s.points,
                    "score_after": s.score_after,
                    "event": s.event_key,
                },
            ),
            s.id,
        )
        for s in session.scalars(query)
    ]


def _consents(session: Session, ids: Sequence[str], cursor: Cursor | None, n: int) -> list[Row]:
    query = (
        select(Consent)
        .where(
            Consent.contact_id.in_(ids),
            _after(cursor, "consent", Consent.recorded_at, Consent.id),
        )
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
        .limit(n)
    )
    return [
        Row(
            TimelineEntry(
                at=c.recorded_at,
                kind="consent",
                title=consent_title(c.channel, c.status, c.source),
                details={
                    "channel": c.channel,
                    "status": c.status,
                    "source": c.source,
                    "proof": dict(c.proof or {}),
                },
            ),
            c.id,
        )
        for c in session.scalars(query)
    ]


Source = Callable[[Session, Sequence[str], Cursor | None, int], list[Row]]
Sources = tuple[Source, ...]
_BY_KIND: dict[str, Source] = {
    "event": _events,
    "order": _orders,
    "stage": _stages,
    "score": _scores,
    "consent": _consents,
}


def _sources(kind: str | None) -> Sources:
    """The sources a page of ``kind`` (None: every kind) is read from."""
    if kind is None:
        return tuple(_BY_KIND.values())
    if kind in EVENT_FAMILIES:
        return (partial(_events, names=EVENT_FAMILIES[kind]),)
    return (_BY_KIND[kind],)


def _order_id(row: Row) -> str:
    """The order id an ``Order Completed`` event is stored under (as the tracking does)."""
    properties = row.entry.details.get("properties") or {}
    found = properties.get("order_id") or properties.get("checkout_id")
    return str(found or row.entry.details["message_id"])


def _without_order_events(session: Session, ids: Sequence[str], rows: list[Row]) -> list[Row]:
    """``rows`` less the order events whose order is stored (the order entry shows them)."""
    candidates = {
        row.id: _order_id(row)
        for row in rows
        if row.entry.kind == "event" and catalog.meaning(row.entry.details["name"]) == catalog.ORDER
    }
    if not candidates:
        return rows
    stored = set(
        session.scalars(
            select(Order.external_id).where(
                Order.contact_id.in_(ids), Order.external_id.in_(set(candidates.values()))
            )
        )
    )
    return [
        row for row in rows if row.entry.kind != "event" or candidates.get(row.id) not in stored
    ]
