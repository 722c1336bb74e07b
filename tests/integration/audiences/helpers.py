"""Small stores for the audience tests: contacts with chosen ids, tags and events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.contacts.tables import Contact, ContactTag
from lealta.events.tables import Event

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def contact_id(number: int) -> str:
    """A contact id (32 hex digits) whose first digits place it ``number``-th."""
    return f"{number:08x}" + "0" * 24


def add_contacts(session: Session, count: int, *, spread: bool = False) -> list[str]:
    """``count`` live contacts; with ``spread`` their ids cover the id space evenly."""
    step = (16**8) // count if spread else 1
    ids = [contact_id(n * step) for n in range(count)]
    session.add_all(Contact(id=cid, created_at=NOW, updated_at=NOW) for cid in ids)
    session.flush()
    return ids


def tag(session: Session, contact: str, name: str) -> None:
    session.add(ContactTag(contact_id=contact, tag=name, created_at=NOW))
    session.flush()


def untag(session: Session, contact: str, name: str) -> None:
    row = session.get(ContactTag, (contact, name))
    assert row is not None
    session.delete(row)
    session.flush()


def track(session: Session, contact: str, name: str, at: dt.datetime, **properties: Any) -> None:
    number = session.scalar(select(func.count()).select_from(Event)) or 0
    session.add(
        Event(
            message_id=f"test-{number}",
            contact_id=contact,
            type="track",
            name=name,
            properties=properties,
            context={},
            occurred_at=at,
            received_at=at,
        )
    )
    session.flush()


def events_named(session: Session, name: str) -> list[tuple[str, dict[str, Any]]]:
    """(contact, properties) of the events named ``name``, by contact."""
    rows = session.execute(
        select(Event.contact_id, Event.properties)
        .where(Event.name == name)
        .order_by(Event.contact_id, Event.id)
    )
    return [(str(cid), dict(props)) for cid, props in rows]
