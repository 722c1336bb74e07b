"""Events: one recorded for a person, and the stored ones read back detached."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.events.record import record_event
from lealta.events.tables import Event


def event(
    session: Session,
    contact_id: str,
    name: str,
    *,
    at: dt.datetime,
    properties: Mapping[str, Any] | None = None,
    message_id: str | None = None,
) -> None:
    """The ``track`` event ``name`` of ``contact_id``, occurred and received ``at``."""
    record_event(
        session,
        message_id=message_id or f"test-{uuid.uuid4().hex}",
        contact_id=contact_id,
        name=name,
        properties=properties or {},
        at=at,
    )


def stored(session: Session, **where: Any) -> list[Event]:
    """The stored events matching ``column=value`` filters, oldest first, detached (so they
    can be read after the transaction)."""
    query = select(Event).order_by(Event.id)
    for column, value in where.items():
        query = query.where(getattr(Event, column) == value)
    rows = list(session.scalars(query))
    for row in rows:
        session.expunge(row)
    return rows
