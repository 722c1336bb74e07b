"""The tracking inbox: accepted messages waiting to be applied to profiles."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, RowId, utcnow


class InboxMessage(Base):
    """One accepted tracking message (the raw JSON), durable from the moment it is acknowledged.

    The processor applies messages in ``id`` order and deletes them; one that cannot be applied
    stays with ``failed_at`` and ``error`` set, so nothing is ever silently dropped.
    """

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), unique=True)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    failed_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
