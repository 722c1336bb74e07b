"""What a merge of two profiles does to their loyalty tiers and tiers by decision.

When ``source`` is merged into ``into`` (:func:`lealta.identity.service.merge` runs
:func:`unite_tiers` and :func:`unite_overrides`, registered in :mod:`lealta.loyalty.person_data`)
the person keeps the better of what each profile had, until the next review judges the
survivor on the united orders:

* **Tier** (``contact_tiers``): the survivor keeps the higher tier of the two (ranked by the
  programme in force; by the stored rank when none is). When the survivor had no tier or a
  lower one, it takes the merged profile's tier with its ``since``, ``until`` and fall; a
  ``loyalty_tier_changes`` row records the move (reason ``profiles merged: …``) but no
  ``Loyalty Tier Upgraded`` event is written and no workflow starts: the person already held
  that tier, and was welcomed to it on the merged profile (whose events move to the
  survivor). When both held the same tier, it is kept since the earlier ``since``, until the
  later ``until``, falling only when both were. The merged profile's row is dropped; its tier
  history has moved to the survivor with the merge.
* **Tier by decision** (``loyalty_overrides``): the merged profile's decision passes to the
  survivor. When both have one, one decision is kept, chosen in this order: the one still in
  force (over an expired one), then the higher tier, then the longer ``until`` (none: until
  removed, the longest), then the survivor's own. Its tier, reason, ``until`` and who set it
  when are kept as they were; the other is deleted. The decision governs the survivor's tier
  from the next review, as for any contact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from lealta.loyalty.overrides import is_active, rank_of
from lealta.loyalty.tables import ContactTier, TierChange, TierOverride

MERGED = "profiles merged"

_Rank = Callable[[str, int], int]  # a tier's rank from its name and its stored rank


def unite_tiers(session: Session, source_id: str, into_id: str, now: dt.datetime) -> None:
    """Give ``into_id`` the better tier of the two profiles (see the module docstring);
    ``source_id`` is left without one."""
    source = session.get(ContactTier, source_id)
    if source is None:
        return
    rank = _ranking(session)
    into = session.get(ContactTier, into_id)
    theirs = rank(source.tier, source.tier_rank)
    if into is not None and into.tier.casefold() == source.tier.casefold():
        into.since = min(into.since, source.since)
        into.until = _later(into.until, source.until)
        into.falling_since = (
            None
            if into.falling_since is None or source.falling_since is None
            else max(into.falling_since, source.falling_since)
        )
    elif into is None or rank(into.tier, into.tier_rank) < theirs:
        before = into.tier if into is not None else None
        if into is None:
            into = ContactTier(contact_id=into_id)
            session.add(into)
        into.tier, into.tier_rank = source.tier, source.tier_rank
        into.since, into.until, into.falling_since = (
            source.since,
            source.until,
            source.falling_since,
        )
        into.score_sum, into.qualified_by = source.score_sum, source.qualified_by
        into.program_version, into.computed_at = source.program_version, now
        session.add(
            TierChange(
                contact_id=into_id,
                from_tier=before,
                to_tier=source.tier,
                changed_at=now,
                reason=f"{MERGED}: {source_id} held {source.tier}"[:500],
                program_version=source.program_version,
            )
        )
    session.delete(source)
    session.flush()


def unite_overrides(session: Session, source_id: str, into_id: str, now: dt.datetime) -> None:
    """Give ``into_id`` the decision kept of the two profiles' (see the module docstring);
    ``source_id`` is left without one."""
    source = session.get(TierOverride, source_id)
    if source is None:
        return
    rank, today = _ranking(session), now.date()
    into = session.get(TierOverride, into_id)
    if into is None or _standing(source, rank, today) > _standing(into, rank, today):
        if into is None:
            into = TierOverride(contact_id=into_id)
            session.add(into)
        into.tier, into.reason, into.until = source.tier, source.reason, source.until
        into.set_by, into.set_at = source.set_by, source.set_at
    session.delete(source)
    session.flush()


def _ranking(session: Session) -> _Rank:
    """Tiers ranked by the programme in force (by their stored rank when none is)."""
    from lealta.loyalty import service

    stored = service.get(session)
    program = stored.program if stored is not None else None

    def rank(name: str, stored_rank: int) -> int:
        return rank_of(program, name) if program is not None else stored_rank

    return rank


def _standing(override: TierOverride, rank: _Rank, today: dt.date) -> tuple[bool, int, dt.date]:
    """What a decision is weighed by: in force, tier, last day (none: the longest)."""
    return (
        is_active(override, today),
        rank(override.tier, 0),
        override.until if override.until is not None else dt.date.max,
    )


def _later(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    """The later of two days (None counts as no day)."""
    if a is None or b is None:
        return a or b
    return max(a, b)
