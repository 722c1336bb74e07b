"""The lead-score ledger: every change of a contact's score, with its rule and event."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, RowId


class ScoreChange(Base):
    """Points a rule gave a contact for one event, and the score right after."""

    __tablename__ = "score_changes"
    __table_args__ = (Index("ix_score_changes_contact_time", "contact_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"))
    rule_id: Mapped[str] = mapped_column(String(100))
    points: Mapped[float]
    score_after: Mapped[float]
    event_key: Mapped[str] = mapped_column(String(128))
    occurred_at: Mapped[dt.datetime]
