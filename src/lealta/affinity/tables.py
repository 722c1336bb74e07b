"""The ``contact_next_best`` table: each contact's suggested next categories or products."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base

ITEM_LENGTH = 200


class ContactNextBest(Base):
    """One suggestion of the latest next-best run for a contact (see :mod:`lealta.affinity`)."""

    __tablename__ = "contact_next_best"
    # "who is likely to want shoes": contacts by suggested item, best ranks first
    __table_args__ = (Index("ix_contact_next_best_item", "kind", "item", "rank"),)

    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    rank: Mapped[int] = mapped_column(primary_key=True)
    item: Mapped[str] = mapped_column(String(ITEM_LENGTH))
    kind: Mapped[str] = mapped_column(String(16))
    score: Mapped[float]
    computed_at: Mapped[dt.datetime]
