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

``contacts`` (a select of contact ids, such as an audience's members,
:func:`lealta.audiences.members.member_ids`) keeps the messages sent to those people: the
report is then the same as over a store holding only them (read from the rows, not the
rollup, which does not know who was sent what).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Subquery,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from lealta.automations.tables import Run
from lealta.channels.tables import MessageInteraction, OutboxMessage
from lealta.errors import InvalidInput
from lealta.feedback.deliverability import unindexed
from lealta.feedback.rollup import (
    MessageDay,
    RollupMark,
    as_date,
    grouped_rows,
    in_ranges,
    key_columns,
    marks,
    midnight,
    new_interactions,
    not_rolled_up,
    since_sweep,
)

GROUPINGS = ("template", "step", "channel", "workflow")
NONE = "(none)"
# The interactions counted per message (distinct outbox rows).
_PER_MESSAGE = ("delivered", "bounced", "unsubscribed", "complained")
# The interactions whose people (and orders) are counted once over the period.
_ONCE = ("opened", "clicked", "converted")
CENT = Decimal("0.01")
# Whose messages a report counts: a select of contact ids, or None for everyone.
Contacts = Select[Any] | None


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
    contacts: Contacts = None,
) -> list[MessageStats]:
    """Numbers per group of messages sent in ``[since, until)`` (to ``contacts`` only, when
    given), most sent first."""
    return _report(session, group_names(by), since, until, contacts=contacts)[0]


def message_totals(
    session: Session, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> MessageStats:
    """Every message sent in ``[since, until)`` as one group (people counted once even when
    they are in several groups of a report)."""
    return _report(session, [], since, until, totals=True)[1]


def report_and_totals(
    session: Session,
    *,
    by: str = "template",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    people: bool = True,
    contacts: Contacts = None,
) -> tuple[list[MessageStats], MessageStats]:
    """:func:`message_report` and :func:`message_totals` in one pass over the period; without
    ``people``, only the figures that add up (from the rollup, in a fraction of a second at
    any size): the people and orders counted once (``opened_unique``, ``clicked_unique``,
    ``converted``, ``converters``) are left at 0."""
    return _report(
        session, group_names(by), since, until, totals=True, people=people, contacts=contacts
    )


def _report(
    session: Session,
    names: list[str],
    since: dt.datetime | None,
    until: dt.datetime | None,
    *,
    totals: bool = False,
    people: bool = True,
    contacts: Contacts = None,
) -> tuple[list[MessageStats], MessageStats]:
    if since is not None and until is not None and until <= since:
        raise InvalidInput("until must be after since", field="until")
    sent = _query(names, since, until, contacts=contacts)
    groups: dict[tuple[str, ...], MessageStats] = {}
    everyone = MessageStats({})

    def stats(values: Sequence[Any]) -> MessageStats:
        key = tuple(NONE if v is None or v == "" else str(v) for v in values)
        if key not in groups:
            groups[key] = MessageStats(dict(zip(names, key, strict=True)))
        return groups[key]

    summed: dict[str, list[Any]] = {}
    for _, key, kind, messages, total, revenue in additive(
        session, names, since, until, contacts=contacts
    ):
        _add_additive(stats(key), kind, messages, total, revenue)
        entry = summed.setdefault(kind, [0, 0, Decimal(0)])
        entry[0], entry[1], entry[2] = entry[0] + messages, entry[1] + total, entry[2] + revenue
    for kind, (messages, total, revenue) in summed.items():
        _add_additive(everyone, kind, messages, total, revenue)
    # people and orders counted once do not add up over days or groups: read from the
    # period's rows once, counted per group and in all (see :func:`_once`)
    once = _once(session, sent, names, since, until, totals, contacts)
    for level, *values, kind, who, orders in session.execute(once) if people else []:
        target = stats(values) if level == 1 and names else everyone
        _add_once(target, kind, int(who), int(orders))
        if not names:
            _add_once(stats(values), kind, int(who), int(orders))
    found = sorted(groups.values(), key=lambda s: (-s.sent, s.label))
    return found, everyone


def _once(
    session: Session,
    sent: Subquery,
    names: list[str],
    since: dt.datetime | None,
    until: dt.datetime | None,
    totals: bool,
    contacts: Contacts = None,
) -> Any:
    """The people who opened and clicked and the buyers and orders of the messages ``sent``,
    per group (level 1) and, with ``totals`` and groups, in all (level 0): rows of (level,
    key values, kind, distinct contacts, distinct orders).

    Opens and clicks are many (two opens and a click per message at ten million message
    events): each message of the period is read once with two yes/no probes of the
    ``(kind, outbox_id)`` index, and its contact counted among those who opened or clicked,
    instead of joining every open and click (a third of the time on SQLite). Conversions are
    few: they are read by kind and joined to their messages (on SQLite the send time is
    and status are tested unindexed, :func:`lealta.feedback.deliverability.unindexed`, or it
    would probe every message of the period), and their orders are counted too."""
    keys = [sent.c[name] for name in names]

    def did(kind: str) -> Any:
        probe = select(MessageInteraction.outbox_id).where(
            MessageInteraction.outbox_id == sent.c.outbox_id, MessageInteraction.kind == kind
        )
        return probe.exists().label(kind)

    converting = _query(
        names, since, until, plain=lambda column: unindexed(session, column), contacts=contacts
    )

    flags = select(*keys, sent.c.contact_id, did("opened"), did("clicked")).cte("flags")
    bought = (
        select(*(converting.c[name] for name in names), converting.c.contact_id)
        .add_columns(MessageInteraction.order_id)
        .select_from(converting)
        .join(MessageInteraction, MessageInteraction.outbox_id == converting.c.outbox_id)
        .where(MessageInteraction.kind == "converted")
        .cte("bought")
    )
    parts = []
    for level in [1, 0] if totals and names else [1]:
        for table, kind in ((flags, "opened"), (flags, "clicked"), (bought, "converted")):
            who: ColumnElement[Any]
            orders: ColumnElement[Any]
            if kind == "converted":
                who = table.c.contact_id
                orders = func.count(table.c.order_id.distinct())
            else:
                who = case((table.c[kind], table.c.contact_id))
                orders = literal(0)
            group = [table.c[name] for name in names]
            shown = group if level == 1 else [literal(None, String()) for _ in names]
            part = select(literal(level), *shown, literal(kind), func.count(who.distinct()), orders)
            parts.append(part.group_by(*group) if level == 1 else part)
    return union_all(*parts)


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
    contacts: Contacts = None,
) -> Figures:
    """The figures that add up (see :mod:`lealta.feedback.rollup`) of the messages sent in
    ``[since, until)`` per group of ``names`` (and per send day when ``daily``): rows of
    (day or ``None``, key values, kind, messages, total, revenue). Whole days the rollup has
    are read from it, touched days and partial days at the ends from the rows (everything,
    for ``contacts``)."""
    plan = _plan(session, since, until, contacts)
    found: dict[tuple[Any, ...], list[Any]] = {}

    def add(rows: Any) -> None:
        for row in rows:
            day, rest = (row[0], row[1:]) if daily else (None, row)
            *values, kind, messages, total, rev = rest
            key_day = as_date(day) if daily else None
            key = (key_day, tuple(NONE if v is None or v == "" else str(v) for v in values), kind)
            entry = found.setdefault(key, [0, 0, Decimal(0)])
            entry[0] += int(messages or 0)
            entry[1] += int(total or 0)
            entry[2] += Decimal(str(rev or 0))

    def summed(table: Any, columns: Any, where: Any = None) -> Any:
        by_day = [columns["day"]] if daily else []
        keys = [columns[name] for name in names]
        query = select(
            *by_day,
            *keys,
            columns["kind"],
            func.sum(columns["messages"]),
            func.sum(columns["total"]),
            func.sum(columns["revenue"]),
        )
        if table is not None:
            query = query.select_from(table)
        if where is not None:
            query = query.where(where)
        return session.execute(query.group_by(*by_day, *keys, columns["kind"]))

    wanted = and_(true(), *_only(key_columns(), names, only))
    if plan.days is not None and plan.mark is not None:
        columns = {c.name: c for c in MessageDay.__table__.columns}
        wanted_days = and_(plan.days, *_only(columns, names, only))
        add(summed(MessageDay.__table__, columns, wanted_days))
        # what happened since the sweep, counted once: messages sent since, with everything
        # that followed them, and new interactions with the messages it had rolled up
        for part in plan.rows:
            computed = grouped_rows(session, and_(part, wanted))
            add(summed(None, computed.c))
        new = new_interactions(session, plan.mark)
        if new is not None:
            changed = since_sweep(session, plan.mark, new, and_(plan.whole_days, wanted))
            add(summed(None, changed.c))
    else:
        for part in plan.rows:
            computed = grouped_rows(session, and_(part, wanted))
            add(summed(None, computed.c))
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


@dataclass(frozen=True)
class _Plan:
    """Where the figures of a period come from: ``days`` of the rollup (``None``: none), and
    the messages read from the rows (``rows``, a condition on the outbox: partial days at the
    ends and what was sent since the sweep, as disjoint parts each read on an index);
    ``whole_days`` bounds the rollup's days on the
    outbox for :func:`since_sweep`."""

    rows: list[ColumnElement[bool]]
    days: ColumnElement[bool] | None = None
    whole_days: ColumnElement[bool] = field(default_factory=true)
    mark: RollupMark | None = None


def _plan(
    session: Session,
    since: dt.datetime | None,
    until: dt.datetime | None,
    contacts: Contacts = None,
) -> _Plan:
    period: list[ColumnElement[bool]] = []
    if since is not None:
        period.append(OutboxMessage.sent_at >= since)
    if until is not None:
        period.append(OutboxMessage.sent_at < until)
    everything = and_(true(), *period)
    if contacts is not None:
        return _Plan([and_(everything, OutboxMessage.contact_id.in_(contacts))])
    mark = marks(session)
    if mark is None:
        return _Plan([everything])
    first = end = None
    edges: list[tuple[dt.datetime, dt.datetime]] = []
    whole: list[ColumnElement[bool]] = []
    days: list[ColumnElement[bool]] = []
    if since is not None:
        first = since.astimezone(dt.UTC).date()
        if midnight(first) < since:
            first += dt.timedelta(days=1)
            edges.append((since, midnight(first)))
        whole.append(OutboxMessage.sent_at >= midnight(first))
        days.append(MessageDay.day >= first)
    if until is not None:
        end = until.astimezone(dt.UTC).date()
        if midnight(end) < until:
            edges.append((midnight(end), until))
        whole.append(OutboxMessage.sent_at < midnight(end))
        days.append(MessageDay.day < end)
    if first is not None and end is not None and first >= end:
        return _Plan([everything])
    in_whole = and_(true(), *whole)
    rows = [and_(everything, in_ranges(edges))] if edges else []
    rows += [and_(in_whole, part) for part in not_rolled_up(session, mark)]
    return _Plan(rows, and_(true(), *days), in_whole, mark)


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
    contacts: Contacts = None,
) -> Subquery:
    """The messages the report counts (sent in ``[since, until)``) as a subquery of
    ``outbox_id``, ``contact_id``, ``sent_at`` and the key columns of ``by``; ``only`` keeps
    one group (key name → value as the report shows it, :data:`NONE` for messages without
    one)."""
    return _query(group_names(by), since, until, only, contacts=contacts)


def _query(
    names: list[str],
    since: dt.datetime | None,
    until: dt.datetime | None,
    only: Mapping[str, str] | None = None,
    *,
    plain: Callable[[Any], Any] = lambda column: column,
    contacts: Contacts = None,
) -> Subquery:
    """The messages sent in the range with the key columns ``names``, as a subquery (grouping
    by a subquery's columns keeps PostgreSQL happy with JSON path keys); ``plain`` wraps the
    status and send time tested (to keep SQLite off their indexes, see :func:`_once`)."""
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
        .where(plain(OutboxMessage.status) == "sent")
    )
    if contacts is not None:
        query = query.where(OutboxMessage.contact_id.in_(contacts))
    if since is not None:
        query = query.where(plain(OutboxMessage.sent_at) >= since)
    if until is not None:
        query = query.where(plain(OutboxMessage.sent_at) < until)
    for name, value in (only or {}).items():
        if name not in names:
            raise InvalidInput(f"{name!r} is not a key of this grouping", field=name)
        column = keys[name]
        query = query.where(
            or_(column.is_(None), column == "") if value == NONE else column == value
        )
    return query.subquery("sent")
