"""A person's histories, read for their profile page: the lead score and lifecycle stage over
time, their RFM segment moves, and their orders and messages a page at a time (each message
with what came back from it: opens, clicks, unsubscribes …).

Every query is bounded by the person's ids (the contact and the profiles merged into it) and
a limit, and runs on an index that starts with the contact (or, for a page of messages'
reactions, the message). Pages are keyset pages: ``before`` is the ``next`` of the page
before, never an offset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lealta.automations.sweeps import ENTERED, LEFT
from lealta.channels.tables import MessageInteraction, OutboxMessage
from lealta.contacts.schemas import as_utc
from lealta.contacts.tables import ContactList
from lealta.errors import InvalidInput
from lealta.events.tables import Event
from lealta.lifecycle.tables import StageChange
from lealta.messages.tables import MessageTemplate
from lealta.orders.tables import Order
from lealta.scoring.tables import ScoreChange
from lealta.storage.paging import decode_cursor, encode_cursor

SCORE_POINTS = 200
STAGE_STEPS = 12
SEGMENT_MOVES = 12
MAX_PAGE = 100
T = TypeVar("T")


@dataclass(frozen=True)
class ScorePoint:
    """The score right after a rule gave points."""

    at: dt.datetime
    score: float
    points: float
    rule: str


@dataclass(frozen=True)
class StageStep:
    """A move to a lifecycle stage."""

    at: dt.datetime
    from_stage: str | None
    to_stage: str
    rule: str


@dataclass(frozen=True)
class SegmentMove:
    """A move between RFM segments (``to_segment`` None: out of every segment)."""

    at: dt.datetime
    from_segment: str | None
    to_segment: str | None


@dataclass(frozen=True)
class OrderLine:
    """One order, as the profile lists it."""

    order_id: str
    placed_at: dt.datetime
    amount: Decimal
    currency: str
    items: int
    channel: str | None


@dataclass(frozen=True)
class Reaction:
    """What came back from a message, of one kind: how often, first and last when."""

    count: int
    first_at: dt.datetime
    last_at: dt.datetime


@dataclass(frozen=True)
class SentMessage:
    """A message decided for the person, where it stands, and what came back from it."""

    id: int
    channel: str
    template: str
    subject: str
    status: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    not_before: dt.datetime
    error: str | None
    workflow: str | None
    reactions: dict[str, Reaction] = field(default_factory=dict)


@dataclass(frozen=True)
class Page(Generic[T]):
    """Rows newest first; ``next`` is the ``before`` of the following page (None: no more)."""

    rows: list[T]
    next: str | None


def score_history(
    session: Session, ids: Sequence[str], *, limit: int = SCORE_POINTS
) -> list[ScorePoint]:
    """The newest ``limit`` score changes, oldest first (a chart reads left to right)."""
    rows = session.scalars(
        select(ScoreChange)
        .where(ScoreChange.contact_id.in_(ids))
        .order_by(ScoreChange.occurred_at.desc(), ScoreChange.id.desc())
        .limit(limit)
    ).all()
    return [
        ScorePoint(as_utc(r.occurred_at), float(r.score_after), float(r.points), r.rule_id)
        for r in reversed(rows)
    ]


def stage_history(
    session: Session, ids: Sequence[str], *, limit: int = STAGE_STEPS
) -> list[StageStep]:
    """The newest ``limit`` stage changes, oldest first."""
    rows = session.scalars(
        select(StageChange)
        .where(StageChange.contact_id.in_(ids))
        .order_by(StageChange.changed_at.desc(), StageChange.id.desc())
        .limit(limit)
    ).all()
    return [
        StageStep(as_utc(r.changed_at), r.from_stage, r.to_stage, r.rule_id) for r in reversed(rows)
    ]


def segment_moves(
    session: Session, ids: Sequence[str], *, limit: int = SEGMENT_MOVES
) -> list[SegmentMove]:
    """The newest RFM segment moves, newest first, from ``Segment Entered`` events (and
    ``Segment Left`` ones that went to no segment).

    Each profile's events of each name are read on their own, newest first, through
    ``ix_events_contact_name_time`` (contact, ``lower(name)``, time): only those entries are
    read, not all the person's events (a heavy contact's 50,000 took 17-40 ms). Asked for
    together, SQLite walks the contact's time index to skip a sort, or everyone's events of
    the name. ``name IN`` (not ``=``) keeps other spellings out: SQLite would fold an exact
    ``name =`` into the ``lower(name)`` term and lose the index. The lists are merged in the
    same order, ties broken by id."""
    rows: list[Any] = []
    for contact_id in dict.fromkeys(ids):
        for name in (ENTERED, LEFT):
            rows += session.execute(
                select(Event.occurred_at, Event.id, Event.name, Event.properties)
                .where(
                    Event.contact_id == contact_id,
                    func.lower(Event.name) == name.lower(),
                    Event.name.in_((ENTERED, LEFT)),
                )
                .order_by(Event.occurred_at.desc(), Event.id.desc())
                .limit(limit * 2)
            ).all()
    rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
    moves: list[SegmentMove] = []
    for at, _id, name, properties in rows[: limit * 2]:
        found = properties or {}
        if name == ENTERED:
            moves.append(SegmentMove(as_utc(at), found.get("from"), found.get("segment")))
        elif found.get("to") is None:
            moves.append(SegmentMove(as_utc(at), found.get("segment"), None))
    return moves[:limit]


def orders(
    session: Session, ids: Sequence[str], *, limit: int, before: str | None = None
) -> Page[OrderLine]:
    """A page of orders, latest first (``before``: ``next`` of the page before)."""
    _check_limit(limit)
    query = select(Order).where(Order.contact_id.in_(ids))
    if before:
        at, row_id = decode_cursor(before)
        # ``placed_at <= at`` alone bounds the walk of ix_orders_contact_time (contact, time).
        query = query.where(
            Order.placed_at <= at,
            or_(Order.placed_at < at, Order.id < _number(row_id)),
        )
    rows = session.scalars(
        query.order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit + 1)
    ).all()
    lines = [
        OrderLine(
            order_id=r.external_id,
            placed_at=as_utc(r.placed_at),
            amount=Decimal(r.amount).quantize(Decimal("0.01")),
            currency=r.currency,
            items=_item_count(r.items or []),
            channel=r.channel,
        )
        for r in rows[:limit]
    ]
    more = len(rows) > limit
    return Page(
        lines, encode_cursor(rows[limit - 1].placed_at, str(rows[limit - 1].id)) if more else None
    )


def messages(
    session: Session, ids: Sequence[str], *, limit: int, before: str | None = None
) -> Page[SentMessage]:
    """A page of the person's messages, newest first, each with its reactions by kind."""
    _check_limit(limit)
    query = select(OutboxMessage).where(OutboxMessage.contact_id.in_(ids))
    if before:
        query = query.where(OutboxMessage.id < _number(before, field="messages_before"))
    rows = session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit + 1)).all()
    shown = rows[:limit]
    reactions = _reactions(session, [r.id for r in shown])
    subjects = _subjects(session, {r.template for r in shown})
    page = [
        SentMessage(
            id=r.id,
            channel=r.channel,
            template=r.template,
            subject=subjects.get(r.template, ""),
            status=r.status,
            created_at=as_utc(r.created_at),
            sent_at=as_utc(r.sent_at) if r.sent_at else None,
            not_before=as_utc(r.not_before),
            error=r.error,
            workflow=(r.payload or {}).get("workflow"),
            reactions=reactions.get(r.id, {}),
        )
        for r in shown
    ]
    return Page(page, str(shown[-1].id) if len(rows) > limit else None)


def list_choices(session: Session) -> list[tuple[str, str, bool]]:
    """Every list as (slug, name, double opt-in), by name: what a person can be put on."""
    rows = session.execute(
        select(ContactList.slug, ContactList.name, ContactList.double_opt_in).order_by(
            ContactList.name, ContactList.slug
        )
    )
    return [(slug, name, bool(double)) for slug, name, double in rows]


def _reactions(session: Session, outbox_ids: Sequence[int]) -> dict[int, dict[str, Reaction]]:
    if not outbox_ids:
        return {}
    rows = session.execute(
        select(
            MessageInteraction.outbox_id,
            MessageInteraction.kind,
            func.count(),
            func.min(MessageInteraction.at),
            func.max(MessageInteraction.at),
        )
        .where(MessageInteraction.outbox_id.in_(outbox_ids))
        .group_by(MessageInteraction.outbox_id, MessageInteraction.kind)
    )
    found: dict[int, dict[str, Reaction]] = {}
    for outbox_id, kind, count, first, last in rows:
        found.setdefault(outbox_id, {})[kind] = Reaction(int(count), as_utc(first), as_utc(last))
    return found


def _subjects(session: Session, templates: set[str]) -> dict[str, str]:
    """Template id → its subject (e-mail) or title (push), as written in the template."""
    if not templates:
        return {}
    rows = session.execute(
        select(MessageTemplate.id, MessageTemplate.body).where(MessageTemplate.id.in_(templates))
    )
    return {
        template: str(_first_text(body or {}, ("subject", "title")) or "")
        for template, body in rows
    }


def _first_text(body: dict[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        if body.get(key):
            return body[key]
    return None


def _item_count(items: list[dict[str, Any]]) -> int:
    """Units in an order: the quantities of its lines (1 per line without one)."""
    total = 0
    for item in items:
        try:
            total += max(int(item.get("quantity", 1)), 0)
        except (TypeError, ValueError):
            total += 1
    return total


def _number(text: str, *, field: str = "orders_before") -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{field} is not a cursor this page gave out", field=field) from None


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit")
