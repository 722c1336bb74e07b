"""Tiers given by decision ("VIP by decision"): set, removed, listed, and kept by reviews.

An override (``loyalty_overrides``) puts a contact in a tier whatever their orders and scores
say, until its ``until`` day (inclusive; none: until removed). While it lasts every review,
full or partial, keeps the contact in that tier (``qualified_by`` is ``by decision: <reason>``,
no fall starts). Setting one moves the contact's tier at once; when that changes the tier, a
``loyalty_tier_changes`` row and a ``Loyalty Tier Upgraded``/``Downgraded`` event are written
with the reason, and the workflows they trigger start.

**When it ends** (expired or removed) the contact is *not* dropped at once: the tier is then
held like any tier, kept until the override's last day (on removal: that day), and the status
rules apply from the next review: a customer who no longer qualifies starts falling then and
goes down after the programme's ``grace_days``, at most ``max_steps_down`` tiers per review.
A customer who qualifies higher moves up at the next review. An override naming a tier the
programme in force no longer has is ignored by reviews.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lealta.errors import InvalidInput, NotFound
from lealta.loyalty.tables import ContactTier, TierOverride

if TYPE_CHECKING:
    from lealta.loyalty.program import LoyaltyProgram
    from lealta.loyalty.service import Stored

DECISION = "by decision"
MAX_REASON = 500


@dataclass(frozen=True)
class Outcome:
    """What setting or removing an override did: the override (None once removed) and the
    contact's tier before and after."""

    contact_id: str
    override: TierOverride | None
    before: str | None
    after: str | None


def is_active(override: TierOverride, today: dt.date) -> bool:
    """Whether ``override`` still holds on ``today`` (its ``until`` is inclusive)."""
    return override.until is None or override.until >= today


def decision_reason(reason: str) -> str:
    """The ``qualified_by`` of a tier given by decision."""
    return f"{DECISION}: {reason}"[:MAX_REASON]


def active(session: Session, today: dt.date, contact_ids: Any = None) -> dict[str, TierOverride]:
    """The overrides in force on ``today`` by contact (only those of ``contact_ids`` when
    given)."""
    query = select(TierOverride).where(
        or_(TierOverride.until.is_(None), TierOverride.until >= today)
    )
    if contact_ids is not None:
        query = query.where(TierOverride.contact_id.in_(list(contact_ids)))
    return {row.contact_id: row for row in session.scalars(query)}


def listed(session: Session, *, include_expired: bool, today: dt.date) -> list[TierOverride]:
    """Overrides, newest first (those still in force only, unless ``include_expired``)."""
    query = select(TierOverride).order_by(TierOverride.set_at.desc(), TierOverride.contact_id)
    if not include_expired:
        query = query.where(or_(TierOverride.until.is_(None), TierOverride.until >= today))
    return list(session.scalars(query))


def set_override(
    session: Session,
    contact_id: str,
    *,
    tier: str,
    reason: str,
    until: dt.date | None,
    set_by: str,
    now: dt.datetime,
) -> Outcome:
    """Put the contact ``contact_id`` (or the one it was merged into) in ``tier`` by decision.

    Replaces the contact's override if it had one. The tier moves now; a move is recorded
    (history row, event, workflows) with ``reason``.

    Raises
    ------
    NotFound
        No programme in force, or no such contact.
    InvalidInput
        An unknown tier (``field="tier"``), an empty or long reason (``reason``), or an
        ``until`` before today (``until``).
    """
    from lealta.loyalty.service import require

    stored = require(session)
    name = stored.program.tier(tier).name
    reason = reason.strip()
    if not reason:
        raise InvalidInput("give the reason for the decision", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason is at most {MAX_REASON} characters", field="reason")
    today = now.date()
    if until is not None and until < today:
        raise InvalidInput(f"until {until.isoformat()} is in the past", field="until")
    contact = _member(session, contact_id)
    row = session.get(TierOverride, contact.id)
    if row is None:
        row = TierOverride(contact_id=contact.id)
        session.add(row)
    row.tier, row.reason, row.until = name, reason, until
    row.set_by, row.set_at = set_by[:200], now
    before = _place(session, stored, contact.id, row, today, now)
    session.flush()
    return Outcome(contact.id, row, before, name)


def remove_override(session: Session, contact_id: str, *, now: dt.datetime) -> Outcome:
    """End the contact's override now. The tier stays, kept until today; the status rules
    (with their grace) apply from the next review.

    Raises
    ------
    NotFound
        No such contact, or the contact has no override.
    """
    contact = _member(session, contact_id)
    row = session.get(TierOverride, contact.id)
    if row is None:
        raise NotFound(f"contact {contact.id} has no tier by decision")
    today = now.date()
    held = session.get(ContactTier, contact.id)
    if held is not None and is_active(row, today) and held.tier == row.tier:
        held.until = today if held.until is None or held.until < today else held.until
        held.qualified_by = f"was {decision_reason(row.reason)}"[:MAX_REASON]
    session.delete(row)
    session.flush()
    tier = held.tier if held is not None else None
    return Outcome(contact.id, None, tier, tier)


def _member(session: Session, contact_id: str) -> Any:
    """The live contact ``contact_id`` is or was merged into."""
    from lealta.contacts.service import get as get_contact

    contact, _merged = get_contact(session, contact_id)
    return contact


def _place(
    session: Session,
    stored: Stored,
    contact_id: str,
    override: TierOverride,
    today: dt.date,
    now: dt.datetime,
) -> str | None:
    """Move the contact's stored tier to the override's; record the move. The tier before."""
    import pandas as pd

    from lealta.loyalty.service import _record_changes

    program = stored.program
    held = session.get(ContactTier, contact_id)
    before = held.tier if held is not None else None
    rank = rank_of(program, override.tier)
    if held is None:
        held = ContactTier(contact_id=contact_id, since=today, until=None, falling_since=None)
        session.add(held)
    same = before is not None and before.casefold() == override.tier.casefold()
    if not same:
        held.since, held.until = today, None
    held.tier, held.tier_rank = override.tier, rank
    held.until = _later(held.until, override.until)
    held.falling_since = None
    held.qualified_by = decision_reason(override.reason)
    held.program_version, held.computed_at = stored.version, now
    session.flush()
    if not same:
        old_rank = rank_of(program, before) if before is not None else 0
        changes = pd.DataFrame(
            {
                "contact_id": [contact_id],
                "from_tier": [before],
                "to_tier": [override.tier],
                "direction": ["up" if rank > old_rank else "down"],
                "reason": [decision_reason(override.reason)],
            }
        )
        _record_changes(session, changes, stored.version, now)
    return before


def rank_of(program: LoyaltyProgram, name: str) -> int:
    """The tier's rank in ``program`` (1 = lowest; 0 when it has no such tier)."""
    folded = [n.casefold() for n in program.tier_names()]
    return folded.index(name.casefold()) + 1 if name.casefold() in folded else 0


def _later(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    """The later of two days (None counts as no day)."""
    if a is None or b is None:
        return a or b
    return max(a, b)


def impose(
    current: Any,
    state: Any,
    changes: Any,
    overrides: dict[str, TierOverride],
    program: LoyaltyProgram,
    *,
    today: dt.date,
) -> tuple[Any, Any]:
    """A review's ``state`` and ``changes`` (see :func:`lealta.loyalty.status.review`) with
    the contacts of ``overrides`` (those in force) kept in their tier by decision. Pure.

    An overridden contact's move is replaced by none, or by the move to the override's
    tier when the contact held another one (e.g. a new programme version).
    """
    import pandas as pd

    kept = {cid: o for cid, o in overrides.items() if rank_of(program, o.tier) > 0}
    if not kept:
        return state, changes
    before = {
        cid: (tier, since, until)
        for cid, tier, since, until in zip(
            current["contact_id"], current["tier"], current["since"], current["until"], strict=True
        )
        if cid in kept
    }
    scores = dict(
        zip(
            state["contact_id"][state["contact_id"].isin(list(kept))],
            state["score_sum"][state["contact_id"].isin(list(kept))],
            strict=True,
        )
    )
    rows, moves = [], []
    for cid, override in kept.items():
        old_tier, since, until = before.get(cid, (None, None, None))
        same = old_tier is not None and str(old_tier).casefold() == override.tier.casefold()
        rank = rank_of(program, override.tier)
        rows.append(
            {
                "contact_id": cid,
                "tier": override.tier,
                "tier_rank": rank,
                "since": since if same else today,
                "until": _later(_day(until) if same else None, override.until),
                "falling_since": None,
                "score_sum": scores.get(cid),
                "qualified_by": decision_reason(override.reason),
            }
        )
        if not same:
            old_rank = rank_of(program, str(old_tier)) if old_tier is not None else 0
            moves.append(
                {
                    "contact_id": cid,
                    "from_tier": old_tier,
                    "to_tier": override.tier,
                    "direction": "up" if rank > old_rank else "down",
                    "reason": decision_reason(override.reason),
                }
            )
    others = state[~state["contact_id"].isin(list(kept))]
    state = pd.concat([others, pd.DataFrame(rows, columns=state.columns)], ignore_index=True)
    moved = changes[~changes["contact_id"].isin(list(kept))]
    if moves:
        moved = pd.concat([moved, pd.DataFrame(moves, columns=changes.columns)], ignore_index=True)
    return state, moved.reset_index(drop=True)


def _day(value: Any) -> dt.date | None:
    """A stored day, None for a missing one."""
    import pandas as pd

    if value is None or bool(pd.isna(value)):
        return None
    return value if isinstance(value, dt.date) else pd.Timestamp(value).date()
