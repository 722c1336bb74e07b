"""Profile changes made outside the tracking pipeline (API, forms, workflows) as events that
start workflows: ``Tag Added``, ``List Joined``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from lealta.automations.triggers import Triggers, load_live
from lealta.events.tables import Event
from lealta.scoring.rules import ScoringEvent
from lealta.storage.upsert import insert_ignoring

TAG_ADDED = "Tag Added"
TAG_REMOVED = "Tag Removed"
LIST_JOINED = "List Joined"


def emit(
    session: Session,
    contact_id: str,
    name: str,
    properties: dict[str, Any],
    *,
    key: str,
    now: dt.datetime,
) -> None:
    """Record the event (once per ``key``) and offer it to the active workflows' triggers."""
    message_id = f"signal:{key}"[:128]
    insert_ignoring(
        session,
        Event.__table__,
        [
            {
                "message_id": message_id,
                "contact_id": contact_id,
                "type": "track",
                "name": name,
                "properties": properties,
                "context": {"source": "lealta"},
                "occurred_at": now,
                "received_at": now,
            }
        ],
        conflict=("message_id",),
    )
    live = load_live(session)
    if live:
        event = ScoringEvent(message_id, now, "track", name, properties)
        Triggers(session, live, now=now).on_event(contact_id, event)


def tag_added(
    session: Session, contact_id: str, tag: str, *, now: dt.datetime, by: str | None = None
) -> None:
    """A tag was put on a contact (``by``: who did it, when a person did, for the timeline)."""
    emit(
        session,
        contact_id,
        TAG_ADDED,
        {"tag": tag, **({"by": by} if by else {})},
        key=f"tag:{contact_id}:{tag}:{now.isoformat()}",
        now=now,
    )


def tag_removed(
    session: Session, contact_id: str, tag: str, *, now: dt.datetime, by: str | None = None
) -> None:
    """A tag was taken off a contact."""
    emit(
        session,
        contact_id,
        TAG_REMOVED,
        {"tag": tag, **({"by": by} if by else {})},
        key=f"untag:{contact_id}:{tag}:{now.isoformat()}",
        now=now,
    )


def list_joined(
    session: Session, contact_id: str, slug: str, *, source: str, now: dt.datetime
) -> None:
    """A contact became a subscribed member of a list."""
    emit(
        session,
        contact_id,
        LIST_JOINED,
        {"list": slug, "source": source},
        key=f"list:{contact_id}:{slug}:{now.isoformat()}",
        now=now,
    )
