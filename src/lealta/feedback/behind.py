"""The contacts behind a figure of the reports, a page at a time.

A figure is named by a :class:`Figure`: a message-report cell (grouping, group key, the count:
``sent``, ``delivered``, ``bounced``, ``opened``, ``clicked``, ``unsubscribed``,
``complained``, ``converted``), a branch of an A/B split (everyone on it, or those who
``opened``, ``clicked`` or reached the ``goal``), the answers of a survey (one NPS category or
all), or the bounces and complaints of recipient domains (comma-separated). Each becomes one
SQL query of distinct contact ids with the very conditions of the figure (the same subqueries
the reports count with), read in id order with a keyset cursor: page 100 costs what page 1 does.
Contacts merged since are shown as the profile they were merged into.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from lealta.automations.tables import Run, RunStep
from lealta.channels.tables import MessageInteraction, OutboxMessage
from lealta.contacts.tables import Contact, Identifier
from lealta.errors import InvalidInput
from lealta.feedback import deliverability, nps, splits
from lealta.feedback.reports import sent_messages

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
COUNT_CAP = 10_000
PAGE = 50


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


def contact_ids(session: Session, wanted: Figure) -> Select[Any]:
    """The distinct contacts behind ``wanted``, as a query of one column ``contact_id``."""
    if wanted.until <= wanted.since:
        raise InvalidInput("until must be after since", field="until")
    if wanted.kind == "message":
        return _message(wanted)
    if wanted.kind == "split":
        return _split(wanted)
    if wanted.kind == "nps":
        return _nps(wanted)
    if wanted.kind == "domain":
        return _domain(session, wanted)
    raise InvalidInput(f"unknown figure kind {wanted.kind!r}; choose from {', '.join(KINDS)}")


def _message(wanted: Figure) -> Select[Any]:
    if wanted.figure not in MESSAGE_FIGURES:
        raise InvalidInput(
            f"unknown figure {wanted.figure!r}; choose from {', '.join(MESSAGE_FIGURES)}",
            field="figure",
        )
    sent = sent_messages(wanted.by, wanted.since, wanted.until, wanted.key)
    query = select(sent.c.contact_id.label("contact_id"))
    if wanted.figure != "sent":
        query = query.join(
            MessageInteraction,
            (MessageInteraction.outbox_id == sent.c.outbox_id)
            & (MessageInteraction.kind == wanted.figure),
        )
    return query.distinct()


def _split(wanted: Figure) -> Select[Any]:
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
    return query.distinct()


def _nps(wanted: Figure) -> Select[Any]:
    answers = nps.in_force(wanted.since, wanted.until, wanted.survey or None)
    query = select(answers.c.contact_id.label("contact_id"))
    if wanted.category:
        if wanted.category not in nps.CATEGORIES:
            raise InvalidInput(
                f"category must be one of {', '.join(nps.CATEGORIES)}", field="category"
            )
        query = query.where(answers.c.category == wanted.category)
    return query.distinct()


def _domain(session: Session, wanted: Figure) -> Select[Any]:
    kinds = {"bounced": ("bounced",), "complained": ("complained",)}.get(
        wanted.figure, ("bounced", "complained")
    )
    address = MessageInteraction.details["address"].as_string()
    query = (
        select(MessageInteraction.contact_id.label("contact_id"))
        .join(OutboxMessage, OutboxMessage.id == MessageInteraction.outbox_id)
        .where(
            MessageInteraction.kind.in_(kinds),
            MessageInteraction.at >= wanted.since,
            MessageInteraction.at < wanted.until,
            OutboxMessage.channel == "email",
        )
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
    return query.distinct()


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


def people(session: Session, wanted: Figure, *, after: str = "", limit: int = PAGE) -> People:
    """The page of contacts behind ``wanted`` whose ids follow ``after``."""
    found = contact_ids(session, wanted).subquery("behind")
    query = select(found.c.contact_id)
    if after:
        query = query.where(found.c.contact_id > after)
    ids = [str(i) for i in session.scalars(query.order_by(found.c.contact_id).limit(limit + 1))]
    following = ids[limit - 1] if len(ids) > limit else ""
    capped = select(found.c.contact_id).limit(COUNT_CAP + 1).subquery("capped")
    total = int(session.scalar(select(func.count()).select_from(capped)) or 0)
    shown = _people(session, ids[:limit])
    return People(shown, following, min(total, COUNT_CAP), total > COUNT_CAP)


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
