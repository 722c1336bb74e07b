"""Deliverability: bounces and complaints by recipient domain and mailbox provider, and the
suppression list searched, paged and lifted with a reason.

**By domain.** The ``bounced`` and ``complained`` interactions recorded in ``[since, until)``
(when the provider reported them) on e-mails, grouped in the database by the domain of the
address the provider named (``details.address``; ``(unknown)`` when it named none). Bounces
are split into ``hard`` and ``soft`` (``details.bounce_type``; a bounce without a type counts
as hard, as :mod:`lealta.feedback.bounces` treats it).

The rows are read through the interactions' ``(kind, outbox_id)`` index: bounces and
complaints are a small share of all interactions, while a month of them (the ``at`` index)
holds millions of opens and clicks at ten million message events. SQLite's planner, knowing
only averages, prefers the ``at`` range (0.9 s at ten million message events), so on SQLite
the time and channel tests are written as expressions it reads no index through
(:func:`unindexed`); PostgreSQL knows how rare the kinds are and is left to choose.

**By provider.** The same rows added up per mailbox provider: well-known domains are mapped to
their provider (:data:`MAILBOX_PROVIDERS`: ``gmail.com`` and ``googlemail.com`` are Gmail …);
any other domain is its own provider (a company's own mail server).

**Lifting a suppression** (:func:`lift`) needs a reason; it deletes the row through
:func:`lealta.feedback.suppressions.unsuppress` and, when the address belongs to a contact,
appends ``Suppression Lifted`` (reason and who) to that contact's timeline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from lealta.channels.tables import MessageInteraction, OutboxMessage, Suppression
from lealta.errors import InvalidInput, NotFound
from lealta.feedback.service import add_event
from lealta.feedback.suppressions import normal_address, unsuppress
from lealta.identity.service import find_contact

UNKNOWN = "(unknown)"
LIFTED = "Suppression Lifted"
PAGE = 50
LONGEST_REASON = 500
LONGEST_SEARCH = 200
# Identifier kinds of the channels whose addresses belong to contacts.
_IDENTIFIER = {"email": "email", "sms": "phone"}
MAILBOX_PROVIDERS: dict[str, str] = {
    **dict.fromkeys(("gmail.com", "googlemail.com"), "Gmail"),
    **dict.fromkeys(
        ("outlook.com", "hotmail.com", "live.com", "msn.com", "hotmail.co.uk", "outlook.es"),
        "Microsoft (Outlook, Hotmail)",
    ),
    **dict.fromkeys(
        ("yahoo.com", "ymail.com", "yahoo.co.uk", "yahoo.es", "yahoo.it", "yahoo.fr"), "Yahoo"
    ),
    **dict.fromkeys(("aol.com",), "AOL"),
    **dict.fromkeys(("icloud.com", "me.com", "mac.com"), "Apple iCloud"),
    **dict.fromkeys(("gmx.de", "gmx.net", "gmx.com", "web.de"), "GMX / WEB.DE"),
    **dict.fromkeys(("orange.fr", "wanadoo.fr"), "Orange"),
    **dict.fromkeys(("libero.it",), "Libero"),
    **dict.fromkeys(("proton.me", "protonmail.com"), "Proton"),
    **dict.fromkeys(("t-online.de",), "T-Online"),
}


def mailbox_provider(domain: str) -> str:
    """The mailbox provider of ``domain``: a known one's name, else the domain itself."""
    return MAILBOX_PROVIDERS.get(domain, domain)


@dataclass
class Trouble:
    """Bounces and complaints of one domain or provider."""

    name: str
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    domains: list[str] = field(default_factory=list)

    @property
    def bounces(self) -> int:
        """Hard and soft bounces."""
        return self.hard + self.soft

    @property
    def total(self) -> int:
        """Bounces and complaints."""
        return self.bounces + self.complaints


def domain_of(session: Session, address: ColumnElement[Any]) -> ColumnElement[Any]:
    """The lower-cased part after the ``@`` of ``address``, in the database's own words."""
    if session.get_bind().dialect.name == "postgresql":
        return func.lower(func.split_part(address, "@", 2))
    return func.lower(func.substr(address, func.instr(address, "@") + 1))


def unindexed(session: Session, column: Any) -> Any:
    """``column`` as SQLite reads no index through (``+column``, the same value), so that it
    reads the rows through another index; the column itself on PostgreSQL."""
    if session.get_bind().dialect.name != "sqlite":
        return column
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def troubles(
    session: Session, since: dt.datetime, until: dt.datetime, kinds: tuple[str, ...]
) -> list[ColumnElement[bool]]:
    """The conditions on the interactions of ``kinds`` (bounces, complaints) recorded in
    ``[since, until)`` on e-mails (joined to the outbox), read by kind (module docstring)."""
    at = unindexed(session, MessageInteraction.at)
    return [
        MessageInteraction.kind.in_(kinds),
        at >= since,
        at < until,
        unindexed(session, OutboxMessage.channel) == "email",
    ]


def by_domain(session: Session, *, since: dt.datetime, until: dt.datetime) -> list[Trouble]:
    """Bounces and complaints per recipient domain, most first (see the module docstring)."""
    if until <= since:
        raise InvalidInput("until must be after since", field="until")
    address = MessageInteraction.details["address"].as_string()
    domain = case((address.like("%@%"), domain_of(session, address)), else_=UNKNOWN)
    hard = func.coalesce(MessageInteraction.details["bounce_type"].as_string(), "hard")
    kind = case((MessageInteraction.kind == "complained", "complaint"), else_=hard)
    rows = session.execute(
        select(domain, kind, func.count())
        .join(OutboxMessage, OutboxMessage.id == MessageInteraction.outbox_id)
        .where(*troubles(session, since, until, ("bounced", "complained")))
        .group_by(domain, kind)
    )
    found: dict[str, Trouble] = {}
    for name, what, count in rows:
        _add(found.setdefault(str(name), Trouble(str(name))), str(what), int(count))
    return sorted(found.values(), key=lambda t: (-t.total, t.name))


def by_provider(domains: list[Trouble]) -> list[Trouble]:
    """The domains' figures added up per mailbox provider, most first."""
    found: dict[str, Trouble] = {}
    for domain in domains:
        provider = found.setdefault(
            mailbox_provider(domain.name), Trouble(mailbox_provider(domain.name))
        )
        provider.hard += domain.hard
        provider.soft += domain.soft
        provider.complaints += domain.complaints
        provider.domains.append(domain.name)
    return sorted(found.values(), key=lambda t: (-t.total, t.name))


def _add(trouble: Trouble, kind: str, count: int) -> None:
    if kind == "complaint":
        trouble.complaints += count
    elif kind == "soft":
        trouble.soft += count
    else:
        trouble.hard += count


@dataclass(frozen=True)
class SuppressionPage:
    """One page of the suppression list, newest first; ``before`` asks for the next."""

    rows: list[Suppression]
    before: int | None
    total: int


def search(
    session: Session,
    *,
    text: str = "",
    channel: str | None = None,
    before: int | None = None,
    limit: int = PAGE,
) -> SuppressionPage:
    """Suppressions whose address contains ``text`` (any case), newest first, ``limit`` at a
    time; ``before`` (a row id from the previous page) continues."""
    cleaned = text.strip().lower()
    if len(cleaned) > LONGEST_SEARCH:
        raise InvalidInput(f"search at most {LONGEST_SEARCH} characters", field="q")
    where: list[ColumnElement[bool]] = []
    if cleaned:
        where.append(func.lower(Suppression.address).contains(cleaned, autoescape=True))
    if channel:
        where.append(Suppression.channel == channel)
    total = int(session.scalar(select(func.count()).select_from(Suppression).where(*where)) or 0)
    if before is not None:
        where.append(Suppression.id < before)
    rows = list(
        session.scalars(
            select(Suppression).where(*where).order_by(Suppression.id.desc()).limit(limit + 1)
        )
    )
    following = rows[limit - 1].id if len(rows) > limit else None
    return SuppressionPage(rows[:limit], following, total)


def lift(
    session: Session, *, channel: str, address: str, reason: str, by: str, now: dt.datetime
) -> str:
    """Take ``address`` off the suppression list of ``channel`` for ``reason`` (see the
    module docstring); the contact it belongs to, if any. ``NotFound`` when it was not on the
    list; ``InvalidInput`` (field ``reason``) without a reason."""
    why = reason.strip()
    if not why or len(why) > LONGEST_REASON:
        raise InvalidInput(f"give a reason of 1 to {LONGEST_REASON} characters", field="reason")
    normal = normal_address(channel, address)
    if not unsuppress(session, channel, normal):
        raise NotFound(f"{normal} is not on the {channel} suppression list")
    kind = _IDENTIFIER.get(channel)
    owner = None
    if kind is not None:
        try:
            owner = find_contact(session, kind, normal)
        except InvalidInput:
            owner = None
    if owner is None:
        return ""
    add_event(
        session,
        contact_id=owner.id,
        name=LIFTED,
        properties={"channel": channel, "address": normal, "reason": why, "by": by},
        at=now,
        message_id=f"unsuppress:{channel}:{owner.id}:{now.isoformat()}"[:128],
    )
    return str(owner.id)
