"""Finding, creating and merging contacts from their identifiers.

``resolve`` is the one entry point: given the identifiers seen together (say an anonymous id and
the e-mail typed into a form), it returns the contact they belong to, creating it or merging
the profiles that turn out to be one person. Services take a session from the unit of work and
never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.orm import Session

from lealta.affinity.tables import ContactNextBest
from lealta.audiences.tables import AudienceMember
from lealta.automations.tables import Run
from lealta.channels.tables import MessageInteraction, OutboxMessage, PushDevice
from lealta.contacts.tables import Consent, Contact, ContactTag, Identifier, ListMembership
from lealta.events.tables import Event
from lealta.identity.normalize import normalize
from lealta.lifecycle.tables import StageChange
from lealta.loyalty.tables import TierChange
from lealta.orders.tables import Order
from lealta.prediction.tables import ContactPrediction
from lealta.scoring.tables import ScoreChange
from lealta.segmentation.tables import ContactRfm
from lealta.vouchers.tables import Voucher

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

    Identifiers, events, orders, consent records, stage and loyalty tier history move; tags
    and list memberships are united (``into``'s own membership of a list wins); attributes
    are united (``into``'s values win); the stage is the later of the two in the lifecycle
    order; the score is recomputed from the united history. The RFM row of ``source`` is
    dropped, and so are its next-best suggestions: the next RFM (affinity) computation
    judges the survivor on the united orders. The survivor keeps the better loyalty tier of
    the two and one tier by decision (rules in :mod:`lealta.loyalty.merging`) until the
    next tier review. The audience memberships of ``source`` are dropped without an event:
    the next refresh of each audience judges the survivor. The merge is recorded as an
    event.
    """
    from lealta.loyalty.merging import unite as unite_loyalty
    from lealta.rulesets.service import lifecycle_model, scoring_model
    from lealta.scoring.service import recompute_contact

    session.flush()
    moved = (Identifier, Event, Order, Consent, StageChange, Run, OutboxMessage, Voucher)
    for table in (*moved, TierChange, MessageInteraction, PushDevice):
        session.execute(
            update(table).where(table.contact_id == source.id).values(contact_id=into.id)
        )
    _unite(session, ContactTag, ContactTag.tag, source.id, into.id)
    _unite(session, ListMembership, ListMembership.list_id, source.id, into.id)
    session.execute(delete(ScoreChange).where(ScoreChange.contact_id == source.id))
    session.execute(delete(ContactRfm).where(ContactRfm.contact_id == source.id))
    session.execute(delete(ContactNextBest).where(ContactNextBest.contact_id == source.id))
    # the survivor's prediction stays until the next run fits on the united orders
    session.execute(delete(ContactPrediction).where(ContactPrediction.contact_id == source.id))
    session.execute(delete(AudienceMember).where(AudienceMember.contact_id == source.id))
    unite_loyalty(session, source.id, into.id, now=now)
    into.attributes = {**source.attributes, **into.attributes}
    into.lifecycle_stage = _later_stage(
        lifecycle_model(session), into.lifecycle_stage, source.lifecycle_stage
    )
    into.first_seen_at = _earliest(into.first_seen_at, source.first_seen_at)
    into.last_seen_at = _latest(into.last_seen_at, source.last_seen_at)
    into.updated_at = now
    source.merged_into = into.id
    source.updated_at = now
    source.score = 0.0
    source.score_state = {}
    session.add(
        Event(
            message_id=f"merge:{source.id}:{into.id}",
            contact_id=into.id,
            type="track",
            name=MERGE_EVENT,
            properties={"merged_contact_id": source.id},
            occurred_at=now,
            received_at=now,
        )
    )
    session.flush()
    recompute_contact(session, into, scoring_model(session))


def _unite(session: Session, table: Any, key: Any, source: str, into: str) -> None:
    """Give ``into`` the rows of ``source`` it lacks (by ``key``); drop the rest of ``source``'s."""
    have = select(key).where(table.contact_id == into)
    session.execute(
        update(table)
        .where(table.contact_id == source, key.not_in(have))
        .values(contact_id=into)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(table).where(table.contact_id == source).execution_options(synchronize_session=False)
    )


def _later_stage(model: Any, first: str | None, second: str | None) -> str | None:
    known = [s for s in (first, second) if s is not None and model.has_stage(s)]
    if not known:
        return first or second
    return max(known, key=model.index)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


def _earliest(first: dt.datetime | None, second: dt.datetime | None) -> dt.datetime | None:
    times = [t for t in (_aware(first), _aware(second)) if t is not None]
    return min(times) if times else None


def _latest(first: dt.datetime | None, second: dt.datetime | None) -> dt.datetime | None:
    times = [t for t in (_aware(first), _aware(second)) if t is not None]
    return max(times) if times else None
