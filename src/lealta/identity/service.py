"""Finding, creating and merging contacts from their identifiers.

``resolve`` is the one entry point: given the identifiers seen together (say an anonymous id and
the e-mail typed into a form), it returns the contact they belong to, creating it or merging
the profiles that turn out to be one person. Services take a session from the unit of work and
never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from lealta.contacts.tables import Contact, Identifier
from lealta.events.record import record_event
from lealta.identity.normalize import normalize
from lealta.persons.registry import registry

MERGE_EVENT = "Profiles Merged"


def find_contact(session: Session, kind: str, value: str) -> Contact | None:
    """The live contact an identifier leads to (following merges), if any."""
    owner = session.scalar(
        select(Identifier.contact_id).where(
            Identifier.kind == kind, Identifier.value == normalize(kind, value)
        )
    )
    return survivor(session, owner) if owner else None


def survivor(session: Session, contact_id: str) -> Contact:
    """The contact that ``contact_id`` is, or was merged into."""
    contact = session.get(Contact, contact_id)
    seen = set()
    while contact is not None and contact.merged_into and contact.id not in seen:
        seen.add(contact.id)
        contact = session.get(Contact, contact.merged_into)
    if contact is None:
        raise LookupError(contact_id)
    return contact


def resolve(session: Session, identifiers: Mapping[str, str | None], now: dt.datetime) -> Contact:
    """The one contact owning ``identifiers`` (kind → value); created or merged as needed.

    Identifiers nobody owns yet are attached to the contact. When they lead to several
    contacts, the oldest survives: the others' identifiers, events and orders move to it, they
    point to it with ``merged_into`` (so their ids keep resolving), and a ``Profiles Merged``
    event records the merge.
    """
    wanted = {kind: normalize(kind, value) for kind, value in identifiers.items() if value}
    if not wanted:
        raise ValueError("resolve needs at least one identifier")
    owned = session.execute(
        select(Identifier.kind, Identifier.value, Identifier.contact_id).where(
            _any_identifier(wanted)
        )
    ).all()
    live = {row.contact_id: survivor(session, row.contact_id) for row in owned}
    ranked = sorted({c.id: c for c in live.values()}.values(), key=_age)
    if ranked:
        contact = ranked[0]
        for other in ranked[1:]:
            merge(session, other, into=contact, now=now)
    else:
        contact = Contact(created_at=now, updated_at=now)
        session.add(contact)
        session.flush()
    have = {(row.kind, row.value) for row in owned}
    for kind, value in wanted.items():
        if (kind, value) not in have:
            session.add(Identifier(contact_id=contact.id, kind=kind, value=value, created_at=now))
    session.flush()
    return contact


def _any_identifier(wanted: Mapping[str, str]) -> ColumnElement[bool]:
    return or_(*(and_(Identifier.kind == k, Identifier.value == v) for k, v in wanted.items()))


def _age(contact: Contact) -> tuple[dt.datetime, str]:
    created = contact.created_at
    if created.tzinfo is None:  # SQLite gives times back without their zone
        created = created.replace(tzinfo=dt.UTC)
    return created, contact.id


def merge(session: Session, source: Contact, *, into: Contact, now: dt.datetime) -> None:
    """Move everything of ``source`` to ``into``; ``source`` keeps resolving to ``into``.

    Each package's rows go as its ``person_data`` module says (:mod:`lealta.persons.registry`):
    identifiers, events, orders, consent records, stage and tier history, runs, messages and
    vouchers move; tags and list memberships are united (``into``'s own membership of a list
    wins); attributes are united (``into``'s values win); the stage is the later of the two in
    the lifecycle order. The RFM row, next-best suggestions, prediction and audience
    memberships of ``source`` are dropped (without events): the next computations judge the
    survivor. The survivor keeps the better loyalty tier of the two and one tier by decision
    (rules in :mod:`lealta.loyalty.merging`) until the next tier review; the points ledger
    stays with ``source`` until the points sweep moves its balance. The merge is recorded as
    an event, then the score is recomputed from the united history.
    """
    session.flush()
    found = registry()
    with session.no_autoflush:  # the contact rows' changes are written once, below
        for entry in found.rows:
            entry.merge(session, source.id, into.id, now)
    into.updated_at = now
    source.merged_into = into.id
    source.updated_at = now
    record_event(
        session,
        message_id=f"merge:{source.id}:{into.id}",
        contact_id=into.id,
        name=MERGE_EVENT,
        properties={"merged_contact_id": source.id},
        at=now,
    )
    session.flush()
    for after in found.after_merge:
        after(session, into.id, now)
