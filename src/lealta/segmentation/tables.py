"""The ``contact_rfm`` table: each contact's latest RFM/RFMP scores, segment and cluster."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, utcnow


class ContactRfm(Base):
    """The result of the latest ``lealta rfm --from-store`` for one contact."""

    __tablename__ = "contact_rfm"

    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    recency_days: Mapped[int]
    frequency: Mapped[int]
    monetary: Mapped[float]
    payment: Mapped[float | None]
    r: Mapped[int]
    f: Mapped[int]
    m: Mapped[int]
    p: Mapped[int | None]
    code: Mapped[str] = mapped_column(String(8))
    segment: Mapped[str] = mapped_column(String(100), index=True)
    cluster: Mapped[int | None] = mapped_column(index=True)  # the contact list filters by it
    cluster_name: Mapped[str | None] = mapped_column(String(100))
    as_of: Mapped[dt.datetime]
    # indexed: the latest scoring's time is the key of the segment figures' cache
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
