"""The ``orders`` table: purchases shaped for analytics (RFM, RFMP, clustering)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, RowId, utcnow


class Order(Base):
    """One order. ``external_id`` (the shop's order id) is unique, so imports are idempotent."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_contact_time", "contact_id", "placed_at"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"))
    placed_at: Mapped[dt.datetime]
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    channel: Mapped[str | None] = mapped_column(String(64))
    payment_method: Mapped[str | None] = mapped_column(String(64))
    due_date: Mapped[dt.date | None]
    paid_date: Mapped[dt.date | None]
    items: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
