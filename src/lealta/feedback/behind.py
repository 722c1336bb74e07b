"""The contacts behind a figure of the reports, a page at a time.

A figure is named by a :class:`Figure`: a message-report cell (grouping, group key, the count:
``sent``, ``delivered``, ``bounced``, ``opened``, ``clicked``, ``unsubscribed``,
``complained``, ``converted``), a branch of an A/B split (everyone on it, or those who
``opened``, ``clicked`` or reached the ``goal``), the answers of a survey (one NPS category or
all), or the bounces and complaints of recipient domains (comma-separated). Each becomes one
SQL query of contact ids with the very conditions of the figure (the same subqueries the
reports count with), read in id order with a keyset cursor: page 100 costs what page 1 does.
Contacts merged since are shown as the profile they were merged into.

**Two ways to the same page.** When a figure has few rows (at most :data:`DENSE`), they are
read and their distinct contacts sorted (*gather*). When it has many (the people who clicked
a month of campaigns: millions of clicks of a fifth of the contacts), gathering them takes
seconds, so the page *walks* the contacts in id order instead and probes each with an EXISTS
on the figure's own rows (through the message events' contact index): 50 people among many are
found after a few hundred probes, and the count stops at :data:`COUNT_CAP` of them, as the
contacts search does with its broad filters. Both give the same people in the same order (every
row's contact is a row of ``contacts``). NPS answers (the newest answer of each message) are
always gathered: they are few, and their "newest" cannot be probed per contact.

The choice is made by the rows, not the people: a figure of more than :data:`DENSE` rows from
only a few hundred people (one contact clicking thousands of times) is walked, and counting it
then probes every contact (about a second at a million contacts). Figures of campaigns have
about as many people as rows, where the walk is the quicker way by far.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from lealta.audiences.members import member_ids
from lealta.automations.tables import Run, RunStep
from lealta.channels.tables import MessageInteraction, OutboxMessage
from lealta.contacts.tables import Contact, Identifier
from lealta.errors import InvalidInput
from lealta.feedback import deliverability, nps, splits
from lealta.feedback.reports import Contacts, sent_messages

MESSAGE_FIGURES = (
    "sent",
    "delivered",
    "bounced",
    "opened",
    "clicked",
    "unsubscribed",
    "complained",
    "converted",
)
SPLIT_FIGURES = ("people", "opened", "clicked", "goal")
KINDS = ("message", "split", "nps", "domain")
# The count above the list stops here ("More than 1,000 contacts"; the report itself gives the
# exact figure): walking, it costs about contacts x COUNT_CAP / matching people probes, so
# 10,000 cost ten times as much (0.2 s of CPU at 200,000 contacts) for a number nobody reads.
COUNT_CAP = 1_000
PAGE = 50
# Above this many rows of a figure its people are found by walking contacts (module docstring).
DENSE = 5_000
Path = Literal["walk", "gather"]


@dataclass(frozen=True)
class Figure:
    """Which figure: ``kind`` and what it needs (see the module docstring)."""

    kind: str
    since: dt.datetime
    until: dt.datetime
    figure: str = "sent"
    by: str = "template"
    key: Mapping[str, str] = field(default_factory=dict)
    workflow: str = ""
    step: str = ""
    branch: str = ""
    survey: str = ""
    category: str = ""
    domain: str = ""
    audience: int | None = None  # message, split and NPS figures: only its members' people


@dataclass(frozen=True)
class _Rows:
    """A figure's rows as a query of one column ``contact_id`` (not distinct), the column to
    probe a contact with, or ``None`` when the rows cannot be probed per contact."""

    query: Select[Any]
    contact: ColumnElement[Any] | InstrumentedAttribute[Any] | None


def contact_ids(session: Session, wanted: Figure) -> Select[Any]:
    """The distinct contacts behind ``wanted``, as a query of one column ``contact_id``."""
    return _rows(session, wanted).query.distinct()


def _rows(session: Session, wanted: Figure) -> _Rows:
    if wanted.until <= wanted.since:
        raise InvalidInput("until must be after since", field="until")
    if wanted.kind == "message":
        return _message(session, wanted)
    if wanted.kind == "split":
        return _split(wanted, _members(session, wanted))
    if wanted.kind == "nps":
        return _nps(wanted, _members(session, wanted))
    if wanted.kind == "domain":
        return _domain(session, wanted)
    raise InvalidInput(f"unknown figure kind {wanted.kind!r}; choose from {', '.join(KINDS)}")


def _message(session: Session, wanted: Figure) -> _Rows:
    if wanted.figure not in MESSAGE_FIGURES:
        raise InvalidInput(
            f"unknown figure {wanted.figure!r}; choose from {', '.join(MESSAGE_FIGURES)}",
            field="figure",
        )
    sent = sent_messages(
        wanted.by, wanted.since, wanted.until, wanted.key, _members(session, wanted)
    )
    query = select(sent.c.contact_id.label("contact_id"))
    if wanted.figure != "sent":
        query = query.join(
            MessageInteraction,
            (MessageInteraction.outbox_id == sent.c.outbox_id)
            & (MessageInteraction.kind == wanted.figure),
        )
    return _Rows(query, sent.c.contact_id)


def _members(session: Session, wanted: Figure) -> Contacts:
    """The audience's members the figure is limited to (``None``: everyone)."""
    return None if wanted.audience is None else member_ids(session, wanted.audience)


def _split(wanted: Figure, contacts: Contacts) -> _Rows:
    if wanted.figure not in SPLIT_FIGURES:
        raise InvalidInput(
            f"unknown figure {wanted.figure!r}; choose from {', '.join(SPLIT_FIGURES)}",
            field="figure",
        )
    query = (
        select(Run.contact_id.label("contact_id"))
        .join(RunStep, RunStep.run_id == Run.id)
        .where(
            RunStep.workflow_id == wanted.workflow,
            RunStep.step_id == wanted.step,
            RunStep.outcome == f"{splits.PREFIX}{wanted.branch}",
            RunStep.at >= wanted.since,
            RunStep.at < wanted.until,
            *splits.of_contacts(contacts),
        )
    )
    if wanted.figure == "goal":
        query = query.where(Run.status == "goal")
    elif wanted.figure in ("opened", "clicked"):
        query = query.join(
            OutboxMessage,
            (OutboxMessage.run_id == Run.id)
            & (OutboxMessage.created_at >= RunStep.at)
            & (OutboxMessage.status == "sent"),
        ).join(
            MessageInteraction,
            (MessageInteraction.outbox_id == OutboxMessage.id)
            & (MessageInteraction.kind == wanted.figure),
        )
    return _Rows(query, Run.contact_id)


def _nps(wanted: Figure, contacts: Contacts) -> _Rows:
    answers = nps.in_force(wanted.since, wanted.until, wanted.survey or None, contacts)
    query = select(answers.c.contact_id.label("contact_id"))
    if wanted.category:
        if wanted.category not in nps.CATEGORIES:
            raise InvalidInput(
                f"category must be one of {', '.join(nps.CATEGORIES)}", field="category"
            )
        query = query.where(answers.c.category == wanted.category)
    return _Rows(query, None)


def _domain(session: Session, wanted: Figure) -> _Rows:
    kinds = {"bounced": ("bounced",), "complained": ("complained",)}.get(
        wanted.figure, ("bounced", "complained")
    )
    address = MessageInteraction.details["address"].as_string()
    query = (
        select(MessageInteraction.contact_id.label("contact_id"))
        .join(OutboxMessage, OutboxMessage.id == MessageInteraction.outbox_id)
        .where(*deliverability.troubles(session, wanted.since, wanted.until, kinds))
    )
    domains = [d.strip().lower() for d in wanted.domain.split(",") if d.strip()]
    if not domains:
        raise InvalidInput("say which domain", field="domain")
    known = [d for d in domains if d != deliverability.UNKNOWN]
    conditions = []
    if known:
        conditions.append(deliverability.domain_of(session, address).in_(known))
    if len(known) < len(domains):
        conditions.append(func.coalesce(address, "").not_like("%@%"))
    query = query.where(or_(*conditions))
    return _Rows(query, MessageInteraction.contact_id)


@dataclass(frozen=True)
class Person:
    """A contact in the list: id, name, e-mail and lifecycle stage."""

    id: str
    name: str
    email: str
    stage: str


@dataclass(frozen=True)
class People:
    """One page of contacts, the cursor of the next (``""`` at the end), how many in all
    (counted up to :data:`COUNT_CAP`; ``more`` when there are more)."""

    people: list[Person]
    after: str
    total: int
    more: bool


def people(
    session: Session,
    wanted: Figure,
    *,
    after: str = "",
    limit: int = PAGE,
    path: Path | None = None,
) -> People:
    """The page of contacts behind ``wanted`` whose ids follow ``after``; ``path`` forces one
    way to it (see the module docstring; chosen by the figure's rows when ``None``)."""
    rows = _rows(session, wanted)
    chosen = path or choose_path(session, rows)
    if chosen == "walk" and rows.contact is not None:
        matches = exists(rows.query.where(rows.contact == Contact.id))
        query = select(Contact.id).where(matches)
        page = query.where(Contact.id > after) if after else query
        ids = [str(i) for i in session.scalars(page.order_by(Contact.id).limit(limit + 1))]
        capped = query.limit(COUNT_CAP + 1).subquery("capped")
    else:
        found = rows.query.distinct().subquery("behind")
        query = select(found.c.contact_id)
        if after:
            query = query.where(found.c.contact_id > after)
        ids = [str(i) for i in session.scalars(query.order_by(found.c.contact_id).limit(limit + 1))]
        capped = select(found.c.contact_id).limit(COUNT_CAP + 1).subquery("capped")
    following = ids[limit - 1] if len(ids) > limit else ""
    total = int(session.scalar(select(func.count()).select_from(capped)) or 0)
    shown = _people(session, ids[:limit])
    return People(shown, following, min(total, COUNT_CAP), total > COUNT_CAP)


def choose_path(session: Session, rows: _Rows) -> Path:
    """``walk`` when the figure has more than :data:`DENSE` rows and can be probed per
    contact, else ``gather`` (read the first ``DENSE + 1`` rows to know)."""
    if rows.contact is None:
        return "gather"
    probe = rows.query.limit(DENSE + 1).subquery("probe")
    many = int(session.scalar(select(func.count()).select_from(probe)) or 0) > DENSE
    return "walk" if many else "gather"


def _people(session: Session, ids: list[str]) -> list[Person]:
    if not ids:
        return []
    contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(ids)))}
    emails: dict[str, str] = {}
    for contact_id, value in session.execute(
        select(Identifier.contact_id, Identifier.value)
        .where(Identifier.contact_id.in_(ids), Identifier.kind == "email")
        .order_by(Identifier.id)
    ):
        emails.setdefault(str(contact_id), str(value))
    shown = []
    for contact_id in ids:
        contact = contacts.get(contact_id)
        attributes: dict[str, Any] = contact.attributes if contact else {}
        name = " ".join(
            str(attributes[part]) for part in ("first_name", "last_name") if attributes.get(part)
        ) or str(attributes.get("name") or "")
        erased = contact is not None and contact.erased_at is not None
        shown.append(
            Person(
                id=contact.merged_into or contact_id if contact else contact_id,
                name="(erased)" if erased else name,
                email="" if erased else emails.get(contact_id, ""),
                stage=(contact.lifecycle_stage or "") if contact else "",
            )
        )
    return shown
