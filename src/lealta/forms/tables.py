"""The ``forms`` table: what a sign-up form does with a submission."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, Document, utcnow


class Form(Base):
    """A sign-up form: the list it subscribes to, the consent it records, where it redirects."""

    __tablename__ = "forms"

    slug: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    list_id: Mapped[int | None] = mapped_column(ForeignKey("lists.id"))
    double_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_channels: Mapped[list[str]] = mapped_column(Document, default=list)
    redirect_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
