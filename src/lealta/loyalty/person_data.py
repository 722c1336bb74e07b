"""Loyalty tiers, their history, tiers by decision and the points ledger, for export, erasure
and merges (see :mod:`lealta.persons.registry`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.loyalty.merging import unite_overrides, unite_tiers
from lealta.loyalty.tables import ContactTier, PointsEntry, TierChange, TierOverride
from lealta.persons.registry import PersonRows
from lealta.persons.rows import columns_of, deleted, listed, moved, stays

_TIER = (
    "tier",
    "since",
    "until",
    "falling_since",
    "score_sum",
    "qualified_by",
    "program_version",
    "computed_at",
)
_POINTS = (
    "seq",
    "kind",
    "points",
    "balance",
    "reason",
    "order_id",
    "voucher_code",
    "rule",
    "expires_on",
    "unrecovered",
    "created_at",
)


def _tier(session: Session, ids: list[str]) -> dict[str, Any] | None:
    """The person's current tier: the survivor's (a merge drops the merged profile's)."""
    found = session.scalars(select(ContactTier).where(ContactTier.contact_id.in_(ids)))
    rows = {row.contact_id: row for row in found}
    row = next((rows[i] for i in ids if i in rows), None)
    return None if row is None else columns_of(row, _TIER)


ROWS = (
    PersonRows(
        table=ContactTier.__tablename__,
        erase=deleted(ContactTier),
        erased="deleted (reviews leave erased contacts out, so their kept orders earn no tier "
        "again)",
        merge=unite_tiers,
        merged="the survivor keeps the better tier of the two (lealta.loyalty.merging)",
        sections=(("loyalty_tier", _tier),),
    ),
    PersonRows(
        table=TierChange.__tablename__,
        erase=deleted(TierChange),
        erased="deleted with the tier",
        merge=moved(TierChange),
        merged="moved to the survivor (after the union of tiers, which records its own)",
        sections=(
            (
                "loyalty_tier_history",
                listed(
                    TierChange,
                    TierChange.changed_at,
                    ("from_tier", "to_tier", "reason", "program_version", "changed_at"),
                ),
            ),
        ),
    ),
    PersonRows(
        table=TierOverride.__tablename__,
        erase=deleted(TierOverride),
        erased="deleted: its reason may name the person",
        merge=unite_overrides,
        merged="one decision is kept of the two (lealta.loyalty.merging)",
        sections=(
            (
                "loyalty_overrides",
                listed(
                    TierOverride,
                    TierOverride.set_at,
                    ("tier", "reason", "until", "set_by", "set_at"),
                ),
            ),
        ),
    ),
    PersonRows(
        table=PointsEntry.__tablename__,
        erase=deleted(PointsEntry),
        erased="deleted (the points sweep leaves erased contacts out too)",
        merge=stays,
        merged="stays on the merged profile, whose ledger is its own: the points sweep moves "
        "the balance left to the survivor, each expiry day kept",
        sections=(("loyalty_points", listed(PointsEntry, PointsEntry.id, _POINTS)),),
    ),
)
