"""Members following events as they arrive: after the tracking processor applies a batch, the
people of the batch are tested against every audience, and only they move.

For each audience (those another refers to first, so an ``audience`` condition sees this
batch's moves), the condition's query restricted to the batch's contacts says who holds now;
compared with who is stored, the difference is written with ``INSERT … ON CONFLICT DO NOTHING
RETURNING`` and ``DELETE … RETURNING``: only the transaction that really inserted or deleted a
row gets it back, so each move gets exactly one ``Audience Entered`` / ``Audience Exited``
event even while a scheduled refresh or another processor works on the same audience, and
without taking the audience's row (a long refresh never holds up the events). The audience's
list follows for those people. The stored size and the day's sizes are left to the next
refresh.

Only the audiences the batch can affect are tested: :func:`index` derives from each condition
what it reads (:mod:`lealta.conditions.reads`: event names, profile facts, other audiences
transitively) once per set of audience versions, and an audience whose reads do not meet what
the batch may change (:func:`lealta.conditions.reads.changed_by`) keeps the same answer for
these people, so it is skipped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lealta.audiences.definition import load_condition
from lealta.audiences.membership import ENTERED, EXITED, LISTS, MEMBERS
from lealta.audiences.schedule import ordered
from lealta.audiences.tables import Audience
from lealta.conditions.reads import EVERYTHING, Reads, changed_by, reads
from lealta.conditions.sql import People, condition_test, live
from lealta.contacts.tables import Contact, ContactList
from lealta.events.tables import Event
from lealta.storage.keyed import one_of


@dataclass(frozen=True)
class Followed:
    """An audience as the live path follows it: its parsed condition and what it reads."""

    audience_id: int
    condition: Any
    reads: Reads


_Key = tuple[tuple[int, int, str], ...]
_INDEX: dict[_Key, dict[int, Followed]] = {}


def index(audiences: Sequence[Audience]) -> dict[int, Followed]:
    """Each audience's parsed condition and reads, by id; computed once per set of audience
    versions (saving an audience adds a version, so a saved change is seen at once)."""
    key: _Key = tuple(sorted((a.id, a.version, a.name) for a in audiences))
    found = _INDEX.get(key)
    if found is None:
        conditions = {a.name: load_condition(a.condition) for a in audiences}
        found = {
            a.id: Followed(a.id, conditions[a.name], reads(conditions[a.name], conditions.get))
            for a in audiences
        }
        _INDEX.clear()  # only the audiences in force matter
        _INDEX[key] = found
    return found


def follow_batch(session: Session, messages: Sequence[dict[str, Any]], *, now: dt.datetime) -> None:
    """After the tracking processor applied ``messages`` (in ``session``'s transaction), their
    people move in and out of the saved audiences those messages can affect."""
    if not messages:
        return
    audiences = _kept(session)
    if not audiences:
        return  # no audience is kept: a batch costs nothing more
    session.flush()  # the batch's profile changes, for the audiences' SQL
    connection = session.connection()
    message_ids = [message["messageId"] for message in messages]
    people = session.execute(
        select(Event.contact_id, Contact.created_at >= now)
        .join(Contact, Contact.id == Event.contact_id)
        .where(one_of(connection, Event.message_id, message_ids))
        .distinct()
    ).all()
    follow(
        session,
        [str(cid) for cid, _ in people],
        now=now,
        changes=changed_by(messages),
        fresh=[str(cid) for cid, new in people if new],
        audiences=audiences,
    )


def _kept(session: Session) -> list[Audience]:
    """The audiences not archived."""
    return list(session.scalars(select(Audience).where(Audience.archived.is_(False))))


def follow(
    session: Session,
    contact_ids: Iterable[str],
    *,
    now: dt.datetime,
    changes: Reads = EVERYTHING,
    fresh: Iterable[str] = (),
    audiences: Sequence[Audience] | None = None,
) -> dict[str, tuple[int, int]]:
    """Move the people ``contact_ids`` in or out of the audiences not archived (``audiences``,
    when the caller read them) whose condition reads something in ``changes`` (what their
    batch may have changed; by default anything), in ``session``'s transaction; (entered,
    exited) per audience that changed. The people ``fresh`` (profiles the batch created,
    never tested yet) are tested against every audience: one that holds of nobody's events
    ("not tagged vip") takes them at once."""
    ids = sorted(set(contact_ids))
    if not ids:
        return {}
    new = sorted(set(fresh) & set(ids))
    kept = _kept(session) if audiences is None else list(audiences)
    followed = index(kept)
    moved: dict[str, tuple[int, int]] = {}
    for audience in ordered(kept):
        one = followed[audience.id]
        tested = ids if one.reads.meets(changes) else new
        if not tested:
            continue
        entered, exited = _follow_one(session, audience, one.condition, tested, now)
        if entered or exited:
            moved[audience.name] = (len(entered), len(exited))
    return moved


def _follow_one(
    session: Session, audience: Audience, condition: Any, ids: Sequence[str], now: dt.datetime
) -> tuple[list[str], list[str]]:
    enter, leave = _differences(session, audience.id, condition, ids, now)
    entered = _insert(session, audience.id, enter, now)
    exited = _delete(session, audience.id, leave)
    if entered or exited:
        _record(session, audience, entered, exited, now)
        if audience.list_slug:
            _follow_list(session, audience, entered, exited, now)
    return entered, exited


def _differences(
    session: Session, audience_id: int, condition: Any, ids: Sequence[str], now: dt.datetime
) -> tuple[list[str], list[str]]:
    """Of the people ``ids``, who the condition holds of and are not members, and who are
    members it no longer holds of: one query (:class:`lealta.conditions.sql.People` keeps
    its plan to these people)."""
    rows = session.execute(differences_query(audience_id, condition, ids, now))
    enter: list[str] = []
    leave: list[str] = []
    for contact_id, wanted, member in rows:
        if bool(wanted) != bool(member):
            (enter if wanted else leave).append(contact_id)
    return sorted(enter), sorted(leave)


def differences_query(
    audience_id: int, condition: Any, ids: Sequence[str], now: dt.datetime
) -> Select[str, bool, bool]:
    """Each of the people ``ids`` (a contact), whether the condition holds of them, and
    whether they are a member of the audience."""
    people = People(ids)
    holds = and_(live(), condition_test(condition, now=now, people=people))
    held = exists().where(MEMBERS.c.audience_id == audience_id, MEMBERS.c.contact_id == Contact.id)
    return select(Contact.id, holds, held).where(people.have(Contact.id))


def _dialect(session: Session) -> Any:
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


def _insert(session: Session, audience_id: int, ids: Sequence[str], now: dt.datetime) -> list[str]:
    if not ids:
        return []
    statement = (
        _dialect(session)
        .insert(MEMBERS)
        .on_conflict_do_nothing(index_elements=["audience_id", "contact_id"])
        .returning(MEMBERS.c.contact_id)
    )
    # many parameter sets rather than one VALUES list: the statement is compiled once
    rows = [{"audience_id": audience_id, "contact_id": cid, "since": now} for cid in ids]
    return sorted(session.scalars(statement, rows))


def _delete(session: Session, audience_id: int, ids: Sequence[str]) -> list[str]:
    if not ids:
        return []
    statement = (
        delete(MEMBERS)
        .where(
            MEMBERS.c.audience_id == audience_id,
            one_of(session.connection(), MEMBERS.c.contact_id, ids),
        )
        .returning(MEMBERS.c.contact_id)
    )
    return sorted(session.scalars(statement))


def _record(
    session: Session,
    audience: Audience,
    entered: Sequence[str],
    exited: Sequence[str],
    now: dt.datetime,
) -> None:
    from lealta.automations.recording import record_events

    token = uuid.uuid4().hex[:16]  # the moves are this transaction's own: any unique key
    properties = {"audience": audience.name, "audience_id": audience.id}
    events = [
        {
            "message_id": f"audience:{audience.id}:live:{token}:{cid}:{way}",
            "contact_id": cid,
            "name": name,
            "properties": dict(properties),
        }
        for name, way, ids in ((ENTERED, "in", entered), (EXITED, "out", exited))
        for cid in ids
    ]
    record_events(session, events, entry_key=f"audience:{audience.id}:live:{token}", now=now)


def _follow_list(
    session: Session,
    audience: Audience,
    entered: Sequence[str],
    exited: Sequence[str],
    now: dt.datetime,
) -> None:
    """The list follows these people as :func:`lealta.audiences.membership.sync_list` makes
    it follow everyone."""
    list_id = session.scalar(select(ContactList.id).where(ContactList.slug == audience.list_slug))
    if list_id is None:
        return
    source = f"audience:{audience.name}"[:200]
    if entered:
        session.execute(
            _dialect(session)
            .insert(LISTS)
            .on_conflict_do_nothing(index_elements=["list_id", "contact_id"]),
            [
                {
                    "list_id": list_id,
                    "contact_id": cid,
                    "status": "subscribed",
                    "source": source,
                    "created_at": now,
                    "updated_at": now,
                }
                for cid in entered
            ],
        )
    if exited:
        session.execute(
            delete(LISTS).where(
                LISTS.c.list_id == list_id,
                LISTS.c.source == source,
                LISTS.c.status == "subscribed",
                one_of(session.connection(), LISTS.c.contact_id, exited),
            )
        )
