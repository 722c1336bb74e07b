"""How sent messages did: counts and rates per template, workflow step, channel or workflow.

:func:`message_report` answers in two set-based queries, whatever the number of messages.

Definitions
-----------
The messages counted are the outbox rows **sent** (``status = "sent"``) with ``sent_at`` in
``[since, until)``; what happened to them afterwards counts whenever it happened (a cohort by
send time), so a report of last week keeps growing as late opens and purchases arrive.

* ``sent``: messages sent. ``delivered``, ``bounced``, ``unsubscribed``, ``complained``:
  messages with at least one such interaction.
* ``opened_unique`` / ``clicked_unique``: distinct contacts with at least one open / click;
  ``opened_total`` / ``clicked_total``: every open / click recorded (each pixel load, each
  redirect).
* ``converted``: orders credited to the messages (:mod:`lealta.feedback.attribution`);
  ``converters``: distinct contacts among their buyers; ``revenue``: their amounts summed.
* ``base``: the messages that reached people as far as Lealta knows, ``sent - bounced``. (Not
  ``delivered``: SMTP reports no deliveries and providers only some, so a group mixing them
  would get rates above 1.)
* Rates (``None`` when the denominator is 0): ``open_rate = opened_unique / base``,
  ``click_rate = clicked_unique / base``, ``click_to_open = clicked_unique / opened_unique``,
  ``unsubscribe_rate = unsubscribed / base``, ``complaint_rate = complained / base``,
  ``bounce_rate = bounced / sent``, ``conversion_rate = converters / base``.

Groups: ``template`` and ``channel`` are the outbox row's; ``workflow`` is the workflow of the
run that sent it (``outbox.run_id`` → ``workflow_runs``); ``step`` is (workflow, the step id kept
in the payload by :mod:`lealta.automations.commands`). Messages sent outside workflows fall in
the group ``(none)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, func, or_, select, true
from sqlalchemy.orm import Session

from lealta.automations.tables import Run
from lealta.channels.tables import MessageInteraction, OutboxMessage
from lealta.errors import InvalidInput
from lealta.feedback.rollup import (
    MOST_DIRTY,
    MessageDay,
    as_date,
    day_ranges,
    dirty_days,
    grouped_rows,
    in_ranges,
    key_columns,
    marks,
    midnight,
)

GROUPINGS = ("template", "step", "channel", "workflow")
NONE = "(none)"
# The interactions counted per message (distinct outbox rows).
_PER_MESSAGE = ("delivered", "bounced", "unsubscribed", "complained")
# The interactions whose people (and orders) are counted once over the period.
_ONCE = ("opened", "clicked", "converted")
CENT = Decimal("0.01")


@dataclass
class MessageStats:
    """One group's numbers; see the module docstring for each definition."""

    key: dict[str, str]
    sent: int = 0
    delivered: int = 0
    bounced: int = 0
    opened_unique: int = 0
    opened_total: int = 0
    clicked_unique: int = 0
    clicked_total: int = 0
    unsubscribed: int = 0
    complained: int = 0
    converted: int = 0
    converters: int = 0
    revenue: Decimal = field(default_factory=lambda: Decimal("0.00"))

    @property
    def label(self) -> str:
        """The group's name for people: ``welcome`` or ``welcome-series / day-3``."""
        return " / ".join(self.key.values())

    @property
    def base(self) -> int:
        """What rates are out of: messages sent and not bounced."""
        return max(self.sent - self.bounced, 0)

    def rates(self) -> dict[str, float | None]:
        """Every rate, as a fraction rounded to 4 places (``None`` out of nothing)."""
        return {
            "open_rate": ratio(self.opened_unique, self.base),
            "click_rate": ratio(self.clicked_unique, self.base),
            "click_to_open": ratio(self.clicked_unique, self.opened_unique),
            "unsubscribe_rate": ratio(self.unsubscribed, self.base),
            "complaint_rate": ratio(self.complained, self.base),
            "bounce_rate": ratio(self.bounced, self.sent),
            "conversion_rate": ratio(self.converters, self.base),
        }

    def as_dict(self) -> dict[str, Any]:
        """Key, counts and rates in one flat mapping (revenue as a decimal string)."""
        counts = {
            name: getattr(self, name)
            for name in (
                "sent",
                "delivered",
                "bounced",
                "opened_unique",
                "opened_total",
                "clicked_unique",
                "clicked_total",
                "unsubscribed",
                "complained",
                "converted",
                "converters",
            )
        }
        return {**self.key, **counts, "revenue": str(self.revenue), **self.rates()}


def ratio(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to 4 places; ``None`` when ``whole`` is 0."""
    return round(part / whole, 4) if whole else None


def message_report(
    session: Session,
    *,
    by: str = "template",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[MessageStats]:
    """Numbers per group of messages sent in ``[since, until)``, most sent first."""
    return _report(session, group_names(by), since, until)


def message_totals(
    session: Session, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> MessageStats:
    """Every message sent in ``[since, until)`` as one group (people counted once even when
    they are in several groups of a report)."""
    found = _report(session, [], since, until)
    return found[0] if found else MessageStats({})


def _report(
    session: Session,
    names: list[str],
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> list[MessageStats]:
    if since is not None and until is not None and until <= since:
        raise InvalidInput("until must be after since", field="until")
    sent = _query(names, since, until)
    keys = [sent.c[name] for name in names]
    groups: dict[tuple[str, ...], MessageStats] = {}

    def stats(values: Sequence[Any]) -> MessageStats:
        key = tuple(NONE if v is None or v == "" else str(v) for v in values)
        if key not in groups:
            groups[key] = MessageStats(dict(zip(names, key, strict=True)))
        return groups[key]

    for _, key, kind, messages, total, revenue in additive(session, names, since, until):
        _add_additive(stats(key), kind, messages, total, revenue)
    # people and orders counted once do not add up over days: read from the period's rows
    once = (
        select(
            *keys,
            MessageInteraction.kind,
            func.count(sent.c.contact_id.distinct()),
            func.count(MessageInteraction.order_id.distinct()),
        )
        .select_from(sent)
        .join(MessageInteraction, MessageInteraction.outbox_id == sent.c.outbox_id)
        .where(MessageInteraction.kind.in_(_ONCE))
        .group_by(*keys, MessageInteraction.kind)
    )
    for *values, kind, contacts, orders in session.execute(once):
        _add_once(stats(values), kind, int(contacts), int(orders))
    return sorted(groups.values(), key=lambda s: (-s.sent, s.label))


def _add_additive(stats: MessageStats, kind: str, messages: int, total: int, revenue: Any) -> None:
    if kind == "sent":
        stats.sent = total
    elif kind in _PER_MESSAGE:
        setattr(stats, kind, messages)
    elif kind == "opened":
        stats.opened_total = total
    elif kind == "clicked":
        stats.clicked_total = total
    elif kind == "converted":
        stats.revenue = Decimal(str(revenue or 0)).quantize(CENT)


def _add_once(stats: MessageStats, kind: str, contacts: int, orders: int) -> None:
    if kind == "opened":
        stats.opened_unique = contacts
    elif kind == "clicked":
        stats.clicked_unique = contacts
    elif kind == "converted":
        stats.converted, stats.converters = orders, contacts


Figures = list[tuple[dt.date | None, tuple[Any, ...], str, int, int, Any]]


def additive(
    session: Session,
    names: list[str],
    since: dt.datetime | None,
    until: dt.datetime | None,
    only: Mapping[str, str] | None = None,
    *,
    daily: bool = False,
) -> Figures:
    """The figures that add up (see :mod:`lealta.feedback.rollup`) of the messages sent in
    ``[since, until)`` per group of ``names`` (and per send day when ``daily``): rows of
    (day or ``None``, key values, kind, messages, total, revenue). Whole days the rollup has
    are read from it, touched days and partial days at the ends from the rows."""
    period_rows, rollup_days = _plan(session, since, until)
    found: dict[tuple[Any, ...], list[Any]] = {}

    def add(
        day: Any, values: Sequence[Any], kind: str, messages: Any, total: Any, rev: Any
    ) -> None:
        key_day = as_date(day) if daily else None
        key = (key_day, tuple(NONE if v is None or v == "" else str(v) for v in values), kind)
        entry = found.setdefault(key, [0, 0, Decimal(0)])
        entry[0] += int(messages or 0)
        entry[1] += int(total or 0)
        entry[2] += Decimal(str(rev or 0))

    if rollup_days is not None:
        columns = [getattr(MessageDay, name) for name in names]
        by_day = [MessageDay.day] if daily else []
        query = (
            select(
                *by_day,
                *columns,
                MessageDay.kind,
                func.sum(MessageDay.messages),
                func.sum(MessageDay.total),
                func.sum(MessageDay.revenue),
            )
            .where(rollup_days, *_only(dict(zip(names, columns, strict=True)), names, only))
            .group_by(*by_day, *columns, MessageDay.kind)
        )
        for row in session.execute(query):
            day, rest = (row[0], row[1:]) if daily else (None, row)
            *values, kind, messages, total, rev = rest
            add(day, values, kind, messages, total, rev)
    where = and_(period_rows, *_only(key_columns(), names, only))
    computed = grouped_rows(session, where)
    columns = [computed.c[name] for name in names]
    by_day = [computed.c.day] if daily else []
    query = select(
        *by_day,
        *columns,
        computed.c.kind,
        func.sum(computed.c.messages),
        func.sum(computed.c.total),
        func.sum(computed.c.revenue),
    ).group_by(*by_day, *columns, computed.c.kind)
    for row in session.execute(query):
        day, rest = (row[0], row[1:]) if daily else (None, row)
        *values, kind, messages, total, rev = rest
        add(day, values, kind, messages, total, rev)
    return [
        (day, values, kind, int(v[0]), int(v[1]), v[2]) for (day, values, kind), v in found.items()
    ]


def _only(
    columns: Mapping[str, Any], names: list[str], only: Mapping[str, str] | None
) -> list[ColumnElement[bool]]:
    conditions = []
    for name, value in (only or {}).items():
        if name not in names:
            raise InvalidInput(f"{name!r} is not a key of this grouping", field=name)
        conditions.append(columns[name] == ("" if value == NONE else value))
    return conditions


def _plan(
    session: Session, since: dt.datetime | None, until: dt.datetime | None
) -> tuple[ColumnElement[bool], ColumnElement[bool] | None]:
    """Which messages of ``[since, until)`` are read from the rows (a condition on the
    outbox), and which days from the rollup (a condition on ``message_days``, ``None`` for
    none): whole days the sweep has rolled up and nobody touched since come from the rollup."""
    period: list[ColumnElement[bool]] = []
    if since is not None:
        period.append(OutboxMessage.sent_at >= since)
    if until is not None:
        period.append(OutboxMessage.sent_at < until)
    everything = and_(true(), *period)
    mark = marks(session)
    if mark is None:
        return everything, None
    first = end = None
    edges: list[tuple[dt.datetime, dt.datetime]] = []
    if since is not None:
        first = since.astimezone(dt.UTC).date()
        if midnight(first) < since:
            first += dt.timedelta(days=1)
            edges.append((since, midnight(first)))
    if until is not None:
        end = until.astimezone(dt.UTC).date()
        if midnight(end) < until:
            edges.append((midnight(end), until))
    if first is not None and end is not None and first >= end:
        return everything, None
    dirty = {
        day
        for day in dirty_days(session, mark)
        if (first is None or day >= first) and (end is None or day < end)
    }
    if len(dirty) > MOST_DIRTY:
        return everything, None
    days: list[ColumnElement[bool]] = []
    if first is not None:
        days.append(MessageDay.day >= first)
    if end is not None:
        days.append(MessageDay.day < end)
    if dirty:
        days.append(MessageDay.day.not_in(sorted(dirty)))
    rows = and_(everything, in_ranges([*edges, *day_ranges(dirty)]))
    return rows, and_(true(), *days)


def group_names(by: str) -> list[str]:
    """The key columns of grouping ``by``: ``["workflow", "step"]`` for steps, else ``[by]``."""
    if by not in GROUPINGS:
        raise InvalidInput(
            f"unknown grouping {by!r}; choose from {', '.join(GROUPINGS)}", field="by"
        )
    return ["workflow", "step"] if by == "step" else [by]


def sent_messages(
    by: str,
    since: dt.datetime | None,
    until: dt.datetime | None,
    only: Mapping[str, str] | None = None,
) -> Subquery:
    """The messages the report counts (sent in ``[since, until)``) as a subquery of
    ``outbox_id``, ``contact_id``, ``sent_at`` and the key columns of ``by``; ``only`` keeps
    one group (key name → value as the report shows it, :data:`NONE` for messages without
    one)."""
    return _query(group_names(by), since, until, only)


def _query(
    names: list[str],
    since: dt.datetime | None,
    until: dt.datetime | None,
    only: Mapping[str, str] | None = None,
) -> Subquery:
    """The messages sent in the range with the key columns ``names``, as a subquery (grouping
    by a subquery's columns keeps PostgreSQL happy with JSON path keys)."""
    keys: dict[str, Any] = {
        "template": OutboxMessage.template,
        "channel": OutboxMessage.channel,
        "workflow": Run.workflow_id,
        "step": OutboxMessage.payload["step"].as_string(),
    }
    query = (
        select(
            OutboxMessage.id.label("outbox_id"),
            OutboxMessage.contact_id.label("contact_id"),
            OutboxMessage.sent_at.label("sent_at"),
            *(keys[name].label(name) for name in names),
        )
        .outerjoin(Run, Run.id == OutboxMessage.run_id)
        .where(OutboxMessage.status == "sent")
    )
    if since is not None:
        query = query.where(OutboxMessage.sent_at >= since)
    if until is not None:
        query = query.where(OutboxMessage.sent_at < until)
    for name, value in (only or {}).items():
        if name not in names:
            raise InvalidInput(f"{name!r} is not a key of this grouping", field=name)
        column = keys[name]
        query = query.where(
            or_(column.is_(None), column == "") if value == NONE else column == value
        )
    return query.subquery("sent")
