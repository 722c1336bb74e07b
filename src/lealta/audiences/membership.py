"""Refreshing an audience's members set-wise, with an event for each person who moved.

A refresh, in one transaction:

1. takes the audience's row for itself (``UPDATE … RETURNING`` of its refresh number: a row
   lock on PostgreSQL, the write lock on SQLite), so two workers never refresh it at once;
2. writes who matches now (:func:`lealta.conditions.members_query`, one set-wise query) into
   a temporary staging table;
3. diffs the staging table with the stored members in SQL: who entered, who exited;
4. inserts and deletes the difference (``INSERT … SELECT … WHERE NOT EXISTS``, ``DELETE …
   WHERE NOT EXISTS``);
5. records an ``Audience Entered`` / ``Audience Exited`` event for each person who moved,
   numbered by the refresh (message id ``audience:<id>:<refresh>:<contact>:in``) so a replay
   writes none twice; they start the workflows they trigger and wake the runs waiting for
   them (:func:`lealta.automations.recording.record_events`). People who left because they
   were erased or merged into another profile leave without an event;
6. keeps the audience's list, when it has one, equal to the members (set-wise), and stores
   the day's size with who entered and exited.

A refresh repeated with nothing changed in the store finds no difference: no row, no event.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Column,
    MetaData,
    String,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from lealta.audiences.definition import load_condition
from lealta.audiences.tables import Audience, AudienceMember, AudienceSize
from lealta.conditions.sql import members_query
from lealta.contacts.tables import Contact, ContactList, ListMembership

ENTERED = "Audience Entered"
EXITED = "Audience Exited"
MEMBERS = cast(Table, AudienceMember.__table__)
LISTS = cast(Table, ListMembership.__table__)
STAGE = Table(
    "audience_stage",
    MetaData(),
    Column("contact_id", String(32), primary_key=True),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


@dataclass(frozen=True)
class Refreshed:
    """What a refresh did."""

    audience_id: int
    name: str
    size: int
    entered: int
    exited: int
    seconds: float


def refresh(session: Session, audience: Audience, *, now: dt.datetime) -> Refreshed:
    """Recompute ``audience``'s members at ``now`` (see the module docstring), in
    ``session``'s transaction."""
    started = time.perf_counter()
    number = _claim(session, audience.id)
    connection = session.connection()
    condition = load_condition(audience.condition)
    STAGE.drop(connection, checkfirst=True)
    STAGE.create(connection)
    try:
        found = members_query(condition, now=now, setwise=True).subquery()
        connection.execute(
            insert(STAGE).from_select(["contact_id"], select(found.c.contact_id).distinct())
        )
        entered = _entered(session, audience.id)
        exited = _exited(session, audience.id)
        _apply(session, audience.id, now)
        size = int(session.scalar(select(func.count()).select_from(STAGE)) or 0)
    finally:
        STAGE.drop(connection, checkfirst=True)
    _record(session, audience, number, entered, exited, now)
    if audience.list_slug:
        sync_list(session, audience, now=now)
    moved = len(entered), len(exited)
    _store_size(session, audience.id, now.astimezone(dt.UTC).date(), size, *moved)
    audience.refreshes = number
    audience.size = size
    audience.refreshed_at = now
    session.flush()
    return Refreshed(
        audience.id, audience.name, size, moved[0], moved[1], time.perf_counter() - started
    )


def _claim(session: Session, audience_id: int) -> int:
    """Take the audience's row and the next refresh number."""
    number = session.scalar(
        update(Audience)
        .where(Audience.id == audience_id)
        .values(refreshes=Audience.refreshes + 1)
        .returning(Audience.refreshes)
        .execution_options(synchronize_session=False)
    )
    return int(number or 0)


def _entered(session: Session, audience_id: int) -> list[str]:
    """The staged contacts not yet members."""
    stored = exists().where(
        MEMBERS.c.audience_id == audience_id, MEMBERS.c.contact_id == STAGE.c.contact_id
    )
    return list(session.scalars(select(STAGE.c.contact_id).where(~stored)))


def _exited(session: Session, audience_id: int) -> list[tuple[str, bool]]:
    """The members not staged, each with whether they are still a live profile."""
    staged = exists().where(STAGE.c.contact_id == MEMBERS.c.contact_id)
    live = and_(Contact.erased_at.is_(None), Contact.merged_into.is_(None))
    query = (
        select(MEMBERS.c.contact_id, live)
        .join(Contact, Contact.id == MEMBERS.c.contact_id)
        .where(MEMBERS.c.audience_id == audience_id, ~staged)
    )
    return [(str(cid), bool(alive)) for cid, alive in session.execute(query)]


def _apply(session: Session, audience_id: int, now: dt.datetime) -> None:
    """Insert the staged contacts not yet members; delete the members not staged."""
    stored = exists().where(
        MEMBERS.c.audience_id == audience_id, MEMBERS.c.contact_id == STAGE.c.contact_id
    )
    session.execute(
        insert(MEMBERS).from_select(
            ["audience_id", "contact_id", "since"],
            select(
                literal(audience_id), STAGE.c.contact_id, literal(now, MEMBERS.c.since.type)
            ).where(~stored),
        )
    )
    staged = exists().where(STAGE.c.contact_id == MEMBERS.c.contact_id)
    session.execute(
        delete(MEMBERS)
        .where(MEMBERS.c.audience_id == audience_id, ~staged)
        .execution_options(synchronize_session=False)
    )


def _record(
    session: Session,
    audience: Audience,
    number: int,
    entered: Sequence[str],
    exited: Sequence[tuple[str, bool]],
    now: dt.datetime,
) -> None:
    """The entered and exited events, and what they do to workflows."""
    from lealta.automations.recording import record_events

    properties = {"audience": audience.name, "audience_id": audience.id}
    events: list[dict[str, Any]] = [
        _event(audience.id, number, cid, "in", ENTERED, properties) for cid in entered
    ]
    events += [
        _event(audience.id, number, cid, "out", EXITED, properties)
        for cid, live in exited
        if live  # erased and merged profiles leave silently
    ]
    record_events(session, events, entry_key=f"audience:{audience.id}:{number}", now=now)


def _event(
    audience_id: int, number: int, contact_id: str, way: str, name: str, properties: Any
) -> dict[str, Any]:
    return {
        "message_id": f"audience:{audience_id}:{number}:{contact_id}:{way}",
        "contact_id": contact_id,
        "name": name,
        "properties": dict(properties),
    }


def sync_list(session: Session, audience: Audience, *, now: dt.datetime) -> None:
    """Make the audience's list follow its members, set-wise: members not on the list join
    it (``subscribed``, source ``audience:<name>``; a person who left the list, or is pending,
    is left as they are), and people the audience put on the list who are no longer members
    are taken off it (those who joined it otherwise stay)."""
    list_id = session.scalar(select(ContactList.id).where(ContactList.slug == audience.list_slug))
    if list_id is None:
        return  # the list was deleted since: nothing to follow
    source = f"audience:{audience.name}"[:200]
    on_list = exists().where(LISTS.c.list_id == list_id, LISTS.c.contact_id == MEMBERS.c.contact_id)
    session.execute(
        insert(LISTS).from_select(
            ["list_id", "contact_id", "status", "source", "created_at", "updated_at"],
            select(
                literal(list_id),
                MEMBERS.c.contact_id,
                literal("subscribed"),
                literal(source),
                literal(now, LISTS.c.created_at.type),
                literal(now, LISTS.c.updated_at.type),
            ).where(MEMBERS.c.audience_id == audience.id, ~on_list),
        )
    )
    member = exists().where(
        MEMBERS.c.audience_id == audience.id, MEMBERS.c.contact_id == LISTS.c.contact_id
    )
    session.execute(
        delete(LISTS)
        .where(
            LISTS.c.list_id == list_id,
            LISTS.c.source == source,
            LISTS.c.status == "subscribed",
            ~member,
        )
        .execution_options(synchronize_session=False)
    )


def _store_size(
    session: Session, audience_id: int, day: dt.date, size: int, entered: int, exited: int
) -> None:
    row = session.get(AudienceSize, (audience_id, day))
    if row is None:
        session.add(
            AudienceSize(
                audience_id=audience_id, day=day, size=size, entered=entered, exited=exited
            )
        )
    else:
        row.size = size
        row.entered += entered
        row.exited += exited
