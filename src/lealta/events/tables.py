"""Tables of the events concept."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, RowId, utcnow


class Event(Base):
    """One event. ``message_id`` is unique: a retried delivery never stores it twice."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_contact_time", "contact_id", "occurred_at"),
        # a contact's events of some names, whatever their case (simulations, dry runs)
        Index("ix_events_contact_name_time", "contact_id", func.lower(text("name")), "occurred_at"),
        # everyone's events of one name in a window (set-wise conditions, migration 0023; the
        # segment-move matrix and the points sweeps match exact names through it too, 0025)
        Index("ix_events_name_time", func.lower(text("name")), "occurred_at"),
        # partial (0025): the events Lealta writes itself (tier moves, segment moves, sends)
        # carry neither id, and a null is never looked up, so they cost no entry
        Index(
            "ix_events_anonymous_id_set",
            "anonymous_id",
            postgresql_where=text("anonymous_id IS NOT NULL"),
            sqlite_where=text("anonymous_id IS NOT NULL"),
        ),
        Index(
            "ix_events_user_id_set",
            "user_id",
            postgresql_where=text("user_id IS NOT NULL"),
            sqlite_where=text("user_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), unique=True)
    # no foreign key (migration 0026): contacts are never deleted and every writer takes the id
    # from a contact it resolved in the same transaction, so the check per event never failed
    # but cost the most of any index (PostgreSQL locks the contact's row for each event)
    contact_id: Mapped[str | None] = mapped_column(String(32))
    anonymous_id: Mapped[str | None] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
