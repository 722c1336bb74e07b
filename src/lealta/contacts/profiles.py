"""Profiles as the API shows them, built for many contacts with a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.contacts.schemas import ConsentOut, ConsentView, MembershipOut, Profile, RfmOut
from lealta.contacts.tables import (
    Consent,
    Contact,
    ContactList,
    ContactTag,
    Identifier,
    ListMembership,
)
from lealta.rulesets.service import scoring_model
from lealta.scoring.rules import ScoringModel
from lealta.scoring.service import current_score
from lealta.segmentation.tables import ContactRfm
from lealta.storage.keyed import one_of


def profile(
    session: Session, contact: Contact, *, now: dt.datetime, merged_from: str | None = None
) -> Profile:
    """The profile of one contact."""
    built = profiles(session, [contact], now=now)[0]
    return built.model_copy(update={"merged_from": merged_from})


def profiles(session: Session, contacts: Sequence[Contact], *, now: dt.datetime) -> list[Profile]:
    """The profiles of ``contacts``, in their order (six queries whatever their number)."""
    if not contacts:
        return []
    ids = [c.id for c in contacts]
    identifiers = identifiers_by_kind(session, ids)
    tags = tags_of(session, ids)
    lists = memberships_of(session, ids)
    consent = consent_in_force(session, ids)
    rfm = {row.contact_id: row for row in rfm_of(session, ids)}
    model = scoring_model(session)
    return [
        Profile(
            id=c.id,
            created_at=c.created_at,
            updated_at=c.updated_at,
            identifiers=identifiers.get(c.id, {}),
            attributes=dict(c.attributes),
            lifecycle_stage=c.lifecycle_stage,
            score=score_now(model, c, now),
            tags=tags.get(c.id, []),
            lists=lists.get(c.id, []),
            consent=consent.get(c.id, {}),
            first_seen_at=c.first_seen_at,
            last_seen_at=c.last_seen_at,
            rfm=_rfm(rfm.get(c.id)),
        )
        for c in contacts
    ]


def score_now(model: ScoringModel, contact: Contact, now: dt.datetime) -> float:
    """The contact's lead score at ``now`` (decay applied), rounded for display."""
    return round(current_score(model, contact, now), 4)


def identifiers_by_kind(session: Session, ids: Sequence[str]) -> dict[str, dict[str, list[str]]]:
    """Contact id → kind → values (oldest first)."""
    found: dict[str, dict[str, list[str]]] = {}
    rows = session.execute(
        select(Identifier.contact_id, Identifier.kind, Identifier.value)
        .where(one_of(session, Identifier.contact_id, ids))
        .order_by(Identifier.id)
    )
    for contact_id, kind, value in rows:
        found.setdefault(contact_id, {}).setdefault(kind, []).append(value)
    return found


def tags_of(session: Session, ids: Sequence[str]) -> dict[str, list[str]]:
    """Contact id → tags, alphabetically."""
    found: dict[str, list[str]] = {}
    rows = session.execute(
        select(ContactTag.contact_id, ContactTag.tag)
        .where(one_of(session, ContactTag.contact_id, ids))
        .order_by(ContactTag.tag)
    )
    for contact_id, tag in rows:
        found.setdefault(contact_id, []).append(tag)
    return found


def memberships_of(session: Session, ids: Sequence[str]) -> dict[str, list[MembershipOut]]:
    """Contact id → list memberships (every status), by list slug."""
    found: dict[str, list[MembershipOut]] = {}
    rows = session.execute(
        select(ListMembership, ContactList)
        .join(ContactList, ContactList.id == ListMembership.list_id)
        .where(ListMembership.contact_id.in_(ids))
        .order_by(ContactList.slug)
    )
    for membership, listed in rows:
        found.setdefault(membership.contact_id, []).append(
            MembershipOut(
                slug=listed.slug,
                name=listed.name,
                status=membership.status,  # type: ignore[arg-type]  # checked on write
                source=membership.source,
                updated_at=membership.updated_at,
            )
        )
    return found


def consent_in_force(session: Session, ids: Sequence[str]) -> dict[str, dict[str, ConsentOut]]:
    """Contact id → channel → the newest decision."""
    newest = (
        select(func.max(Consent.id))
        .where(Consent.contact_id.in_(ids))
        .group_by(Consent.contact_id, Consent.channel)
    )
    found: dict[str, dict[str, ConsentOut]] = {}
    for row in session.scalars(select(Consent).where(Consent.id.in_(newest))):
        found.setdefault(row.contact_id, {})[row.channel] = consent_out(row)
    return {cid: dict(sorted(channels.items())) for cid, channels in found.items()}


def consent_view(session: Session, contact: Contact) -> ConsentView:
    """The decision in force per channel and the full history (oldest first)."""
    history = [
        consent_out(row)
        for row in session.scalars(
            select(Consent).where(Consent.contact_id == contact.id).order_by(Consent.id)
        )
    ]
    current = {entry.channel: entry for entry in history}
    return ConsentView(current=dict(sorted(current.items())), history=history)


def consent_out(row: Consent) -> ConsentOut:
    """One consent row as the API shows it."""
    return ConsentOut(
        channel=row.channel,
        status=row.status,
        source=row.source,
        proof=dict(row.proof or {}),
        recorded_at=row.recorded_at,
    )


def rfm_of(session: Session, ids: Sequence[str]) -> list[ContactRfm]:
    """The ``contact_rfm`` rows of ``ids``."""
    return list(
        session.scalars(select(ContactRfm).where(one_of(session, ContactRfm.contact_id, ids)))
    )


def _rfm(row: ContactRfm | None) -> RfmOut | None:
    if row is None:
        return None
    return RfmOut(
        segment=row.segment,
        code=row.code,
        r=row.r,
        f=row.f,
        m=row.m,
        p=row.p,
        recency_days=row.recency_days,
        frequency=row.frequency,
        monetary=row.monetary,
        cluster_name=row.cluster_name,
        as_of=row.as_of,
    )
