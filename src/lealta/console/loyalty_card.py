"""The loyalty card on the contact page: tier, since and until when, benefits with their codes,
the tier history, and progress to the next tier in words (the same card as
``GET /v1/contacts/{id}/loyalty``, :func:`lealta.loyalty.service.card`).

Progress is worked out from the contact's orders on DuckDB, which takes about a second: the
page asks for it separately (:func:`progress_words`, an htmx fragment loaded with the page)
so that the rest of the profile shows at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.console import loyalty_words as words
from lealta.console.segments_page import day_label
from lealta.loyalty import service
from lealta.loyalty.tables import ContactTier, TierChange

HISTORY = 20


def move_words(from_tier: str | None, to_tier: str | None, names: list[str]) -> str:
    """``Moved up from Silver to Gold``, ``Joined Member``, ``Left Member``."""
    if from_tier is None:
        return f"Joined {to_tier}"
    if to_tier is None:
        return f"Left {from_tier} (no tier any more)"
    ranks = {name: rank for rank, name in enumerate(names)}
    up = ranks.get(to_tier, -1) > ranks.get(from_tier, -1)
    return f"Moved {'up' if up else 'down'} from {from_tier} to {to_tier}"


def loyalty_card(
    session: Session, contact_id: str, ids: list[str], now: dt.datetime
) -> dict[str, Any] | None:
    """The card of ``contact_id`` (history of every id merged into it, ``ids``); None when
    no programme is in force."""
    stored = service.get(session)
    if stored is None:
        return None
    program = stored.program
    tier = session.get(ContactTier, contact_id)
    history = session.execute(
        select(TierChange.from_tier, TierChange.to_tier, TierChange.changed_at, TierChange.reason)
        .where(TierChange.contact_id.in_(ids))
        .order_by(TierChange.changed_at.desc(), TierChange.id.desc())
        .limit(HISTORY)
    ).all()
    names = program.tier_names()
    return {
        "program": program.name,
        "tier": tier.tier if tier else None,
        "since": day_label(tier.since) if tier else "",
        "until": day_label(tier.until) if tier and tier.until else "",
        "falling": day_label(tier.falling_since) if tier and tier.falling_since else "",
        "qualified_by": tier.qualified_by or "" if tier else "",
        "benefits": [
            {"code": b.code, "words": words.benefit(b, program.currency)}
            for b in (program.benefits_of(tier.tier) if tier and tier.tier in names else [])
        ],
        "top": tier is not None and tier.tier == names[-1],
        "history": [
            {
                "text": move_words(a, b, names),
                "date": day_label(at.date()),
                "reason": reason,
                "tier": b or "",
            }
            for a, b, at, reason in history
        ],
    }


def progress_words(session: Session, contact_id: str, now: dt.datetime) -> dict[str, str]:
    """What the contact still needs for the next tier above theirs: ``words`` (empty when
    there is none, or the missing part is a score rather than orders or spend) and
    ``ordered`` (empty when the contact has no order yet, so nothing was judged)."""
    from lealta.orders.tables import Order

    found = service.card(session, contact_id, now=now)
    progress = found.progress or {}
    ordered = session.scalar(select(Order.id).where(Order.contact_id == found.contact_id).limit(1))
    return {
        "words": str(progress.get("words") or ""),
        "ordered": "yes" if ordered is not None else "",
    }
