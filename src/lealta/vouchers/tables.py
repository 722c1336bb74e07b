"""The ``vouchers`` table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, utcnow


class Voucher(Base):
    """A voucher issued to a contact. ``issue_key`` is unique: issuing is idempotent."""

    __tablename__ = "vouchers"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    issue_key: Mapped[str] = mapped_column(String(200), unique=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # percent, amount, free_shipping
    value: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    redeemed_at: Mapped[dt.datetime | None]
    redeemed_order: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(200), default="")
