"""The loyalty tables: the programme's versions, each contact's tier, the tier history, and
the points ledger."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, RowId, utcnow


class LoyaltyProgramVersion(Base):
    """One saved version of the loyalty programme; the highest version is in force.

    ``reviewed_at`` is when a full review last applied it to every customer (null: never).
    """

    __tablename__ = "loyalty_programs"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column()
    saved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[dt.datetime | None]


class ContactTier(Base):
    """A contact's current tier (contacts in no tier have no row).

    ``until`` is the last day the tier is kept whatever happens (the status rules'
    ``keep_days``/``keep_until``; null: while the contact qualifies). ``falling_since`` is the
    first review that found the contact qualifying below the tier (null while they qualify):
    the grace period counts from it, or from the day after ``until`` when that is later.
    """

    __tablename__ = "contact_tiers"

    # no foreign key (migration 0026): reviews write it from contact_rfm, orders and overrides
    # (each keyed to contacts), and contacts are never deleted
    contact_id: Mapped[str] = mapped_column(String(32), primary_key=True)
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
    # no foreign key, like events and contact_tiers (migration 0026): written from the
    # review's own contacts, which are never deleted
    contact_id: Mapped[str] = mapped_column(String(32))
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


class PointsEntry(Base):
    """One immutable entry of a contact's points ledger (rows are only ever added).

    ``seq`` numbers a contact's entries 1, 2, 3 … and is unique with the contact: two writers
    that read the same last entry cannot both add the next one, so ``balance`` (the balance
    after this entry, never below 0) is a true running total. ``key`` is unique per contact:
    a retried earn, bonus, return or redemption finds its entry instead of adding another.
    ``points`` is signed (credits above 0); ``expires_on`` is the day a credit's points are
    gone (null: never, and always null on debits). ``unrecovered`` is what a return should
    have taken back but could not (spent already; the balance never goes below 0).
    """

    __tablename__ = "loyalty_points"
    __table_args__ = (
        UniqueConstraint("contact_id", "seq", name="uq_loyalty_points_contact_seq"),
        UniqueConstraint("contact_id", "key", name="uq_loyalty_points_contact_key"),
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        Index("ix_loyalty_points_order", "order_id", "kind"),
        Index("ix_loyalty_points_expires", "expires_on"),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int]
    balance: Mapped[int]
    key: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500), default="")
    order_id: Mapped[str | None] = mapped_column(String(128))
    voucher_code: Mapped[str | None] = mapped_column(String(32))
    rule: Mapped[str | None] = mapped_column(String(64))
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    unrecovered: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
