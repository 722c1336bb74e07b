"""The contact row, identifiers, tags, list memberships and consent, for export, erasure and
merges (see :mod:`lealta.persons.registry`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lealta.contacts.consent import consents_in_force, record_consent
from lealta.contacts.tables import Consent, Contact, ContactList, ContactTag, Identifier
from lealta.contacts.tables import ListMembership as Membership
from lealta.persons.registry import PersonRows
from lealta.persons.rows import columns_of, count, deleted, listed, moved, plain, united

_CONTACT = ("id", "created_at", "updated_at", "lifecycle_stage", "score")
_SEEN = ("first_seen_at", "last_seen_at")


def _contact(session: Session, ids: list[str]) -> dict[str, Any]:
    row = session.get_one(Contact, ids[0])
    return {**columns_of(row, (*_CONTACT, *_SEEN)), "merged_ids": ids[1:]}


def _attributes(session: Session, ids: list[str]) -> dict[str, Any]:
    return dict(plain(dict(session.get_one(Contact, ids[0]).attributes)))


def _merged_profiles(session: Session, ids: list[str]) -> list[dict[str, Any]]:
    """The profiles merged into the contact, with the attributes they still hold."""
    rows = session.scalars(select(Contact).where(Contact.id.in_(ids[1:])).order_by(Contact.id))
    return [columns_of(row, ("id", "created_at", "merged_into", "attributes")) for row in rows]


def _clear(session: Session, ids: Sequence[str], now: dt.datetime) -> int:
    """Attributes, stage, score and seen-times go; the row stays, marked ``erased_at``, so
    that its id answers 410 Gone and the rows kept keep a valid owner."""
    rows = list(session.scalars(select(Contact).where(Contact.id.in_(ids))))
    for row in rows:
        row.attributes = {}
        row.lifecycle_stage = None
        row.score = 0.0
        row.score_state = {}
        row.first_seen_at = None
        row.last_seen_at = None
        row.erased_at = now
        row.updated_at = now
    return len(rows)


def _unite_profiles(session: Session, source_id: str, into_id: str, now: dt.datetime) -> None:
    source, into = session.get_one(Contact, source_id), session.get_one(Contact, into_id)
    into.attributes = {**source.attributes, **into.attributes}
    into.first_seen_at = _earliest(into.first_seen_at, source.first_seen_at)
    into.last_seen_at = _latest(into.last_seen_at, source.last_seen_at)


def _lists(session: Session, ids: list[str]) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ContactList.slug, ContactList.name, Membership)
        .join(Membership, Membership.list_id == ContactList.id)
        .where(Membership.contact_id.in_(ids))
        .order_by(ContactList.slug)
    )
    return [
        {"slug": slug, "name": name}
        | columns_of(membership, ("status", "source", "created_at", "updated_at"))
        for slug, name, membership in rows
    ]


def _erase_consent(session: Session, ids: Sequence[str], now: dt.datetime) -> int:
    """Channels still granted or pending get a final ``denied`` decision (source
    ``erasure``); every decision is kept without its proof."""
    for contact_id in ids:
        for channel, row in consents_in_force(session, contact_id).items():
            if row.status != "denied":
                record_consent(session, contact_id, channel, "denied", source="erasure", at=now)
    session.execute(
        update(Consent)
        .where(Consent.contact_id.in_(ids))
        .values(proof={})
        .execution_options(synchronize_session=False)
    )
    return count(session, Consent, ids)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite gives times back without zone
        return moment.replace(tzinfo=dt.UTC)
    return moment


def _earliest(first: dt.datetime | None, second: dt.datetime | None) -> dt.datetime | None:
    times = [t for t in (_aware(first), _aware(second)) if t is not None]
    return min(times) if times else None


def _latest(first: dt.datetime | None, second: dt.datetime | None) -> dt.datetime | None:
    times = [t for t in (_aware(first), _aware(second)) if t is not None]
    return max(times) if times else None


ROWS = (
    PersonRows(
        table=Contact.__tablename__,
        erase=_clear,
        erased="kept, emptied: attributes, stage, score and seen-times cleared, marked "
        "erased_at so its id answers 410 Gone and the rows kept keep a valid owner",
        merge=_unite_profiles,
        merged="attributes united (the survivor's values win), first seen the earlier, last "
        "seen the later; the merged profile points to the survivor with merged_into",
        sections=(
            ("contact", _contact),
            ("attributes", _attributes),
            ("merged_profiles", _merged_profiles),
        ),
        reported_as="contacts",
    ),
    PersonRows(
        table=Identifier.__tablename__,
        erase=deleted(Identifier, counted=True),
        erased="deleted, so the e-mail or phone can start a new contact",
        merge=moved(Identifier),
        merged="moved to the survivor",
        sections=(
            ("identifiers", listed(Identifier, Identifier.id, ("kind", "value", "created_at"))),
        ),
        reported_as="identifiers",
    ),
    PersonRows(
        table=ContactTag.__tablename__,
        erase=deleted(ContactTag, counted=True),
        erased="deleted",
        merge=united(ContactTag, ContactTag.tag),
        merged="united: the survivor gets the tags it lacks",
        sections=(("tags", listed(ContactTag, ContactTag.tag, ("tag", "created_at"))),),
        reported_as="tags",
    ),
    PersonRows(
        table=Membership.__tablename__,
        erase=deleted(Membership, counted=True),
        erased="deleted",
        merge=united(Membership, Membership.list_id),
        merged="united: the survivor's own membership of a list wins",
        sections=(("lists", _lists),),
        reported_as="list_memberships",
    ),
    PersonRows(
        table=Consent.__tablename__,
        erase=_erase_consent,
        erased="kept without their proof (IP address, user agent …): that a decision and its "
        "withdrawal happened, and when, is what the controller must be able to show; channels "
        "still granted or pending get a final denied decision with source erasure",
        merge=moved(Consent),
        merged="moved to the survivor",
        sections=(
            (
                "consents",
                listed(
                    Consent, Consent.id, ("channel", "status", "source", "proof", "recorded_at")
                ),
            ),
        ),
        reported_as="consents_kept",
    ),
)
