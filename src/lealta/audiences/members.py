"""Reading an audience's members: a page of them (keyset-paged by contact id), and the
audiences a person is in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from lealta.audiences.tables import Audience, AudienceMember
from lealta.contacts.schemas import as_utc
from lealta.errors import InvalidInput

MAX_LIMIT = 500


@dataclass(frozen=True)
class Member:
    """A member and since when."""

    contact_id: str
    since: dt.datetime


def page(
    session: Session, audience: Audience, *, limit: int = 50, after: str | None = None
) -> list[Member]:
    """Up to ``limit`` members by contact id, those after ``after`` (the last id of the
    previous page). Contact ids are random, so a page is a random sample of the members."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    query = (
        select(AudienceMember.contact_id, AudienceMember.since)
        .where(AudienceMember.audience_id == audience.id)
        .order_by(AudienceMember.contact_id)
        .limit(limit)
    )
    if after:
        query = query.where(AudienceMember.contact_id > after)
    return [Member(cid, since) for cid, since in session.execute(query)]


def is_member(session: Session, audience: Audience, contact_id: str) -> bool:
    """Whether ``contact_id`` is in ``audience`` (as of its latest refresh)."""
    found = session.get(AudienceMember, (audience.id, contact_id))
    return found is not None


def audiences_of(session: Session, contact_id: str) -> list[str]:
    """The names of the audiences ``contact_id`` is in, sorted."""
    query = (
        select(Audience.name)
        .join(AudienceMember, AudienceMember.audience_id == Audience.id)
        .where(AudienceMember.contact_id == contact_id)
        .order_by(Audience.name)
    )
    return list(session.scalars(query))


def memberships(session: Session, contact_ids: list[str]) -> list[dict[str, Any]]:
    """The audiences ``contact_ids`` (one person's profiles) are in, with since when, by
    audience name (a privacy export's ``audiences``)."""
    query = (
        select(Audience.name, AudienceMember.since)
        .join(AudienceMember, AudienceMember.audience_id == Audience.id)
        .where(AudienceMember.contact_id.in_(contact_ids))
        .order_by(Audience.name, AudienceMember.since)
    )
    found = session.execute(query)
    return [{"audience": name, "since": as_utc(since).isoformat()} for name, since in found]


def member_ids(session: Session, audience_id: int) -> Select[Any]:
    """The contact ids of audience ``audience_id`` as a select, to keep other queries to its
    members (a report filter); ``InvalidInput`` naming ``audience`` when there is none."""
    if session.get(Audience, audience_id) is None:
        raise InvalidInput(f"there is no audience {audience_id}", field="audience")
    return select(AudienceMember.contact_id).where(AudienceMember.audience_id == audience_id)
