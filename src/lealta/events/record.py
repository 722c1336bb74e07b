"""Events Lealta records itself about a person (a merge, an erasure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from lealta.events.tables import Event


def record_event(
    session: Session,
    *,
    message_id: str,
    contact_id: str,
    name: str,
    properties: Mapping[str, Any],
    at: dt.datetime,
    context: Mapping[str, Any] | None = None,
) -> None:
    """Add the ``track`` event ``name`` of ``contact_id``, occurred and received ``at``."""
    session.add(
        Event(
            message_id=message_id,
            contact_id=contact_id,
            type="track",
            name=name,
            properties=dict(properties),
            context=dict(context or {}),
            occurred_at=at,
            received_at=at,
        )
    )
