"""The daily rollup of message figures, so reports read days instead of every message.

**What it holds.** ``message_days`` has one row per send day (UTC), channel, template,
workflow, step and figure ``kind``: ``sent`` (messages sent that day) or an interaction kind
(``delivered``, ``bounced``, ``opened``, ``clicked``, ``unsubscribed``, ``complained``,
``converted``) with ``messages`` (distinct messages with at least one such interaction),
``total`` (interactions recorded) and ``revenue`` (their amounts). Every one of these adds up
across days and groups (a message is sent on one day, in one group), so a period's figure is a
sum of days. Missing keys are stored as ``""`` (the report shows them as ``(none)``).

What does **not** add up is kept out: people counted once (``opened_unique``,
``clicked_unique``, ``converters``) and orders counted once (``converted``) are read from the
rows of the period by :mod:`lealta.feedback.reports` (opens, clicks and conversions only,
through the ``outbox (sent_at)`` index).

**How it is kept exact.** The worker's sweep (:func:`sweep`, once a minute) rebuilds whole
days from the rows, each in one transaction: the days touched since its marks (messages with a
newer id or sent since the last sweep, and the send days of interactions with a newer id, each
looked back by a margin covering transactions still open at the last sweep) are deleted and
recomputed, so a retried, repeated or crashed sweep writes the same rows again and nothing is
counted twice. What a day's rows count is fixed by the marks (:func:`rolled_up`): messages with
an id up to ``outbox_id`` sent before ``swept_at``, with their interactions up to
``interaction_id``.

Readers add what came since, exactly and cheaply (:mod:`lealta.feedback.reports`): the
messages sent since the sweep read from the rows with everything that followed them
(:func:`not_rolled_up`), and for the rolled-up messages only the interactions recorded since
(:func:`since_sweep`: each adds to the totals, and adds its message to ``messages`` unless it
already had one of that kind). Partial days at the ends of a period are read from the rows.
Before the first sweep (no marks) reports read the rows only.

**Limits.** People counted once over a period cannot be summed from days, so they stay
``O(opens and clicks of the period)``: about 0.1 s for 80,000, but about 10 s on SQLite for six
million (exact alternatives: per-period caches, or a table of distinct contact, group, kind and
day; HyperLogLog would be approximate). A sweep rebuilds every day an interaction touched, so
late opens spread over many send days cost that many days' rebuilds (applying the new rows as
deltas, as readers do, would cost only the new rows). A row committed after a sweep with an id
below its marks (a transaction open across it) is missed until the next sweep rebuilds its day
(within the margins). Erasing a contact empties its messages' payload (the step), which moves
them to step ``(none)`` in the rows but not in days already rolled up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Numeric,
    String,
    Text,
    and_,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from lealta.automations.tables import Run
from lealta.channels.tables import MessageInteraction, OutboxMessage
from lealta.storage.base import Base

KINDS = ("delivered", "bounced", "opened", "clicked", "unsubscribed", "complained", "converted")
KEYS = ("channel", "template", "workflow", "step")
# Look-backs covering rows committed after a sweep read past them (open transactions).
ID_MARGIN = 5_000
TIME_MARGIN = dt.timedelta(minutes=15)
# Up to this many messages or interactions since the sweep are read by id.
NEWS = 20_000
_DAY = dt.timedelta(days=1)


class MessageDay(Base):
    """One day's figure of one group of messages (see the module docstring)."""

    __tablename__ = "message_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    template: Mapped[str] = mapped_column(String(200), primary_key=True)
    workflow: Mapped[str] = mapped_column(String(200), primary_key=True)
    step: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    revenue: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=Decimal("0.00"))


class RollupMark(Base):
    """How far the sweep has rolled up: the newest message and interaction ids it saw and
    the moment it started (one row, ``id = 1``)."""

    __tablename__ = "message_days_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(BigInteger, default=0)
    interaction_id: Mapped[int] = mapped_column(BigInteger, default=0)
    swept_at: Mapped[dt.datetime]


def send_day(session: Session, moment: Any) -> ColumnElement[Any]:
    """The UTC day of ``moment`` in the database's own words (a date, or ISO text)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", moment))
    return func.date(moment)


def as_date(value: Any) -> dt.date:
    """A day as the database returned it (date, datetime or ISO text) as a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def midnight(day: dt.date) -> dt.datetime:
    """The first moment of ``day`` (UTC)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def day_ranges(days: Iterable[dt.date]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Consecutive days joined into ``[start, end)`` moments, oldest first."""
    ranges: list[list[dt.datetime]] = []
    for day in sorted(set(days)):
        start = midnight(day)
        if ranges and ranges[-1][1] == start:
            ranges[-1][1] = start + _DAY
        else:
            ranges.append([start, start + _DAY])
    return [(start, end) for start, end in ranges]


def in_ranges(ranges: Sequence[tuple[dt.datetime, dt.datetime]]) -> ColumnElement[bool]:
    """``outbox.sent_at`` falls in one of ``ranges`` (false when there are none)."""
    if not ranges:
        return false()
    return or_(
        *(
            and_(OutboxMessage.sent_at >= start, OutboxMessage.sent_at < end)
            for start, end in ranges
        )
    )


def key_columns() -> dict[str, ColumnElement[Any]]:
    """The group columns of a message, ``""`` when it has none."""
    return {
        "channel": func.coalesce(OutboxMessage.channel, ""),
        "template": func.coalesce(OutboxMessage.template, ""),
        "workflow": func.coalesce(Run.workflow_id, ""),
        "step": func.coalesce(OutboxMessage.payload["step"].as_string(), ""),
    }


def grouped_rows(
    session: Session, where: ColumnElement[bool], *, interactions_upto: int | None = None
) -> Any:
    """The rollup's rows computed from the messages sent matching ``where``: per day, group
    and kind, ``messages``, ``total`` and ``revenue`` (a union of two grouped selects);
    ``interactions_upto`` leaves out interactions with a greater id."""
    upto = true() if interactions_upto is None else MessageInteraction.id <= interactions_upto
    day = send_day(session, OutboxMessage.sent_at).label("day")
    keys = [column.label(name) for name, column in key_columns().items()]
    sent = (
        select(
            day,
            *keys,
            literal("sent").label("kind"),
            func.count().label("messages"),
            func.count().label("total"),
            literal(0).label("revenue"),
        )
        .select_from(OutboxMessage)
        .outerjoin(Run, Run.id == OutboxMessage.run_id)
        .where(OutboxMessage.status == "sent", where)
        .group_by(day, *keys)
    )
    followed = (
        select(
            day,
            *keys,
            MessageInteraction.kind.label("kind"),
            func.count(MessageInteraction.outbox_id.distinct()).label("messages"),
            func.count(MessageInteraction.id).label("total"),
            func.coalesce(func.sum(MessageInteraction.revenue), 0).label("revenue"),
        )
        .select_from(OutboxMessage)
        .join(MessageInteraction, MessageInteraction.outbox_id == OutboxMessage.id)
        .outerjoin(Run, Run.id == OutboxMessage.run_id)
        .where(OutboxMessage.status == "sent", MessageInteraction.kind.in_(KINDS), where, upto)
        .group_by(day, *keys, MessageInteraction.kind)
    )
    return union_all(sent, followed).subquery("computed")


def rolled_up(mark: RollupMark) -> ColumnElement[bool]:
    """The messages the rollup counts: those there when the sweep ran (id and send time up
    to its marks). Their interactions up to ``mark.interaction_id`` are counted too."""
    return and_(OutboxMessage.id <= mark.outbox_id, OutboxMessage.sent_at < mark.swept_at)


def not_rolled_up(session: Session, mark: RollupMark) -> list[ColumnElement[bool]]:
    """The messages sent since the sweep (the rollup counts none of them), as conditions on
    the outbox: their ids when there are at most :data:`NEWS` (the usual minute's worth, read
    by id), else two disjoint ranges (newer ids, older ones sent since)."""
    newer = OutboxMessage.id > mark.outbox_id
    resent = and_(OutboxMessage.id <= mark.outbox_id, OutboxMessage.sent_at >= mark.swept_at)
    ids: list[int] = []
    for part in (newer, resent):
        ids += session.scalars(select(OutboxMessage.id).where(part).limit(NEWS + 1))
        if len(ids) > NEWS:
            return [newer, resent]
    return [OutboxMessage.id.in_(ids)] if ids else []


def new_interactions(session: Session, mark: RollupMark) -> ColumnElement[bool] | None:
    """The interactions recorded since the sweep, as a condition (``None``: there are none);
    by id when there are at most :data:`NEWS`."""
    ids = list(
        session.scalars(
            select(MessageInteraction.id)
            .where(MessageInteraction.id > mark.interaction_id)
            .limit(NEWS + 1)
        )
    )
    if not ids:
        return None
    return (
        MessageInteraction.id.in_(ids)
        if len(ids) <= NEWS
        else MessageInteraction.id > mark.interaction_id
    )


def since_sweep(
    session: Session, mark: RollupMark, new: ColumnElement[bool], where: ColumnElement[bool]
) -> Any:
    """What the interactions recorded since the sweep (``new``, from
    :func:`new_interactions`) add to the rolled-up messages matching
    ``where``, in the rollup's columns: each interaction to ``total`` and ``revenue``, and
    its message to ``messages`` unless it had one of that kind already (then it is counted)."""
    day = send_day(session, OutboxMessage.sent_at).label("day")
    keys = [column.label(name) for name, column in key_columns().items()]
    older = aliased(MessageInteraction)
    counted = (
        exists()
        .where(
            older.outbox_id == MessageInteraction.outbox_id,
            older.kind == MessageInteraction.kind,
            older.id <= mark.interaction_id,
        )
        .correlate(MessageInteraction)
    )
    first = case((counted, None), else_=MessageInteraction.outbox_id)
    return (
        select(
            day,
            *keys,
            MessageInteraction.kind.label("kind"),
            func.count(first.distinct()).label("messages"),
            func.count(MessageInteraction.id).label("total"),
            func.coalesce(func.sum(MessageInteraction.revenue), 0).label("revenue"),
        )
        .select_from(MessageInteraction)
        .join(OutboxMessage, OutboxMessage.id == MessageInteraction.outbox_id)
        .outerjoin(Run, Run.id == OutboxMessage.run_id)
        .where(
            new,
            MessageInteraction.kind.in_(KINDS),
            OutboxMessage.status == "sent",
            rolled_up(mark),
            where,
        )
        .group_by(day, *keys, MessageInteraction.kind)
        .subquery("since_sweep")
    )


def marks(session: Session) -> RollupMark | None:
    """The sweep's marks (``None`` before the first sweep)."""
    return session.get(RollupMark, 1)


def dirty_days(session: Session, mark: RollupMark) -> set[dt.date]:
    """The send days touched since ``mark`` (with the margins of the module docstring)."""
    day = send_day(session, OutboxMessage.sent_at)
    sent = (
        select(day)
        .where(
            OutboxMessage.status == "sent",
            or_(
                OutboxMessage.sent_at >= mark.swept_at - TIME_MARGIN,
                OutboxMessage.id > mark.outbox_id - ID_MARGIN,
            ),
        )
        .distinct()
    )
    followed = (
        select(day)
        .select_from(MessageInteraction)
        .join(OutboxMessage, OutboxMessage.id == MessageInteraction.outbox_id)
        .where(
            MessageInteraction.id > mark.interaction_id - ID_MARGIN,
            OutboxMessage.status == "sent",
            OutboxMessage.sent_at.is_not(None),
        )
        .distinct()
    )
    return {as_date(v) for v in session.scalars(sent) if v} | {
        as_date(v) for v in session.scalars(followed) if v
    }


def rebuild(session: Session, days: Iterable[dt.date] | None, mark: RollupMark) -> None:
    """Recompute the rollup of ``days`` (every day when ``None``) from the rows, counting
    what ``mark`` says it counts (:func:`rolled_up`)."""
    if days is None:
        session.execute(delete(MessageDay))
        where: ColumnElement[bool] = OutboxMessage.sent_at.is_not(None)
    else:
        wanted = sorted(set(days))
        if not wanted:
            return
        session.execute(delete(MessageDay).where(MessageDay.day.in_(wanted)))
        where = in_ranges(day_ranges(wanted))
    computed = grouped_rows(
        session, and_(where, rolled_up(mark)), interactions_upto=mark.interaction_id
    )
    names = ["day", *KEYS, "kind", "messages", "total", "revenue"]
    session.execute(insert(MessageDay).from_select(names, select(*(computed.c[n] for n in names))))


def sweep(session: Session, *, now: dt.datetime) -> int:
    """Roll up the days touched since the last sweep (every day the first time, ``-1``);
    how many days were rebuilt."""
    old = session.get(RollupMark, 1, with_for_update=True)
    new = RollupMark(
        id=1,
        outbox_id=int(session.scalar(select(func.max(OutboxMessage.id))) or 0),
        interaction_id=int(session.scalar(select(func.max(MessageInteraction.id))) or 0),
        swept_at=now,
    )
    if old is None:
        rebuild(session, None, new)
        session.add(new)
        session.flush()
        return -1
    touched = dirty_days(session, old)
    rebuild(session, touched, new)
    old.outbox_id, old.interaction_id, old.swept_at = new.outbox_id, new.interaction_id, now
    session.flush()
    return len(touched)
