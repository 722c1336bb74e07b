"""The stage history of contacts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, RowId, utcnow


class StageChange(Base):
    """A move of a contact between lifecycle stages, with the rule and event that caused it."""

    __tablename__ = "stage_changes"
    __table_args__ = (Index("ix_stage_changes_contact_time", "contact_id", "changed_at"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"))
    from_stage: Mapped[str | None] = mapped_column(String(64))
    to_stage: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(100))
    cause: Mapped[str | None] = mapped_column(String(128))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
