"""The loyalty tables: the programme's versions, each contact's tier, and the tier history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, RowId, utcnow


class LoyaltyProgramVersion(Base):
    """One saved version of the loyalty programme; the highest version is in force."""

    __tablename__ = "loyalty_programs"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column()
    saved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ContactTier(Base):
    """A contact's current tier (contacts in no tier have no row).

    ``until`` is the last day the tier is kept whatever happens (the status rules'
    ``keep_days``/``keep_until``; null: while the contact qualifies). ``falling_since`` is the
    first review that found the contact qualifying below the tier (null while they qualify):
    the grace period counts from it, or from the day after ``until`` when that is later.
    """

    __tablename__ = "contact_tiers"

    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    tier: Mapped[str] = mapped_column(String(64), index=True)
    tier_rank: Mapped[int]
    since: Mapped[dt.date] = mapped_column(Date)
    until: Mapped[dt.date | None] = mapped_column(Date)
    falling_since: Mapped[dt.date | None] = mapped_column(Date)
    score_sum: Mapped[int | None]
    qualified_by: Mapped[str | None] = mapped_column(String(500))
    program_version: Mapped[int]
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TierChange(Base):
    """A move between tiers (``None``: no tier), with why it happened."""

    __tablename__ = "loyalty_tier_changes"
    __table_args__ = (Index("ix_loyalty_tier_changes_contact_time", "contact_id", "changed_at"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"))
    from_tier: Mapped[str | None] = mapped_column(String(64))
    to_tier: Mapped[str | None] = mapped_column(String(64))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    reason: Mapped[str] = mapped_column(String(500))
    program_version: Mapped[int]


class TierOverride(Base):
    """A tier given by decision ("VIP by decision"): kept whatever the reviews find until
    ``until`` (inclusive; null: until removed), with who set it and why."""

    __tablename__ = "loyalty_overrides"

    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    tier: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    until: Mapped[dt.date | None] = mapped_column(Date)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
