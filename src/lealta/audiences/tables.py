"""The audience tables: the audiences with their versions, who is in each, and their size
day by day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, utcnow


class Audience(Base):
    """A saved audience: a named condition whose members are kept in ``audience_members``.

    ``name`` is unique and is what a ``{kind: audience, audience: NAME}`` condition names.
    ``condition`` is the current version's condition (the versions are in
    ``audience_versions``). ``list_slug`` names the list the members are synchronised into
    (none: no list). ``refreshes`` counts the refreshes that changed or confirmed the
    members; it numbers the ``Audience Entered``/``Exited`` events of each, so a refresh
    repeated writes none twice. ``size`` is the member count after the latest refresh.
    """

    __tablename__ = "audiences"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    condition: Mapped[dict[str, Any]] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)
    list_slug: Mapped[str | None] = mapped_column(String(100))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    refreshed_at: Mapped[dt.datetime | None]
    refreshes: Mapped[int] = mapped_column(default=0)
    size: Mapped[int | None]


class AudienceVersion(Base):
    """One immutable version of an audience's definition (saving a change adds the next)."""

    __tablename__ = "audience_versions"

    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    definition: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AudienceMember(Base):
    """A contact in an audience since ``since`` (the refresh that found them in).

    The ``contact_id`` index serves "which audiences is this person in" (the profile, the
    per-person side of ``{kind: audience}``) and erasure; the key serves the SQL side.
    """

    __tablename__ = "audience_members"
    __table_args__ = (Index("ix_audience_members_contact", "contact_id", "audience_id"),)

    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    since: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AudienceSize(Base):
    """An audience's size at the end of a day's latest refresh, with who entered and left
    that day (summed over the day's refreshes)."""

    __tablename__ = "audience_sizes"

    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    size: Mapped[int]
    entered: Mapped[int] = mapped_column(default=0)
    exited: Mapped[int] = mapped_column(default=0)
