"""The message report over time: per day or per week, what was sent and what followed.

The messages are those :func:`lealta.feedback.reports.message_report` counts (sent in
``[since, until)``, optionally one group), placed in the bucket of the day they were **sent**
(UTC); what happened to them afterwards counts in that bucket whenever it happened, as in the
report (a cohort by send day). Per bucket:

* ``sent``: messages sent that day;
* ``delivered``, ``bounced``, ``opened``, ``clicked``, ``unsubscribed``, ``complained``:
  messages of that day with at least one such interaction (messages, not people: a person
  who received two messages that day and opened both counts twice);
* ``converted``: orders credited to them; ``revenue``: their amounts.

Two queries grouped by day do the work in the database, whatever the number of messages;
weeks (Monday to Sunday) are days added up. Buckets with nothing sent are present, at 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.channels.tables import MessageInteraction
from lealta.errors import InvalidInput
from lealta.feedback.reports import CENT, Contacts, additive, group_names, sent_messages
from lealta.feedback.rollup import as_date, send_day

BUCKETS = ("day", "week")
KINDS = ("delivered", "bounced", "opened", "clicked", "unsubscribed", "complained")
MAX_DAYS = 3 * 366
_TICK = dt.timedelta(microseconds=1)


@dataclass
class Bucket:
    """One day or week (``start`` is its first day)."""

    start: dt.date
    sent: int = 0
    delivered: int = 0
    bounced: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0
    complained: int = 0
    converted: int = 0
    revenue: Decimal = field(default_factory=lambda: Decimal("0.00"))

    def add(self, other: Bucket) -> None:
        """Add ``other``'s counts to this bucket's."""
        for name in ("sent", *KINDS, "converted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.revenue += other.revenue


def bucket_start(day: dt.date, bucket: str) -> dt.date:
    """The first day of ``day``'s bucket: itself, or the Monday of its week."""
    return day if bucket == "day" else day - dt.timedelta(days=day.weekday())


def trend(
    session: Session,
    *,
    since: dt.datetime,
    until: dt.datetime,
    bucket: str = "day",
    by: str = "template",
    only: Mapping[str, str] | None = None,
    contacts: Contacts = None,
) -> list[Bucket]:
    """The buckets of ``[since, until)``, oldest first (see the module docstring); the
    messages sent to ``contacts`` only, when given."""
    if bucket not in BUCKETS:
        raise InvalidInput(f"bucket must be one of {', '.join(BUCKETS)}", field="bucket")
    if until <= since:
        raise InvalidInput("until must be after since", field="until")
    if (until - since).days > MAX_DAYS:
        raise InvalidInput(f"a period is at most {MAX_DAYS} days", field="since")
    days = _days(session, since, until, by, only, contacts)
    first, last = since.astimezone(dt.UTC).date(), (until - _TICK).astimezone(dt.UTC).date()
    found: dict[dt.date, Bucket] = {}
    day = first
    while day <= last:
        start = bucket_start(day, bucket)
        found.setdefault(start, Bucket(start))
        if day in days:
            found[start].add(days[day])
        day += dt.timedelta(days=1)
    return list(found.values())


def _days(
    session: Session,
    since: dt.datetime,
    until: dt.datetime,
    by: str,
    only: Mapping[str, str] | None,
    contacts: Contacts,
) -> dict[dt.date, Bucket]:
    days: dict[dt.date, Bucket] = {}

    def at(value: Any) -> Bucket:
        key = as_date(value)
        return days.setdefault(key, Bucket(key))

    names = group_names(by)
    for day, _, kind, messages, total, revenue in additive(
        session, names, since, until, only, daily=True, contacts=contacts
    ):
        target = at(day)
        if kind == "sent":
            target.sent += total
        elif kind == "converted":
            target.revenue += Decimal(str(revenue or 0))
        elif kind in KINDS:
            setattr(target, kind, getattr(target, kind) + messages)
    # orders are counted once a day: read from the rows (conversions only)
    sent = sent_messages(by, since, until, only, contacts)
    sent_day = send_day(session, sent.c.sent_at)
    orders = (
        select(sent_day, func.count(MessageInteraction.order_id.distinct()))
        .join(MessageInteraction, MessageInteraction.outbox_id == sent.c.outbox_id)
        .where(MessageInteraction.kind == "converted")
        .group_by(sent_day)
    )
    for value, count in session.execute(orders):
        at(value).converted = int(count)
    for bucket in days.values():
        bucket.revenue = bucket.revenue.quantize(CENT)
    return days
