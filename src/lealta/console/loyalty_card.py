"""The loyalty card on the contact page: tier, since and until when, benefits with their codes,
whether the tier is by decision (why, until when), the points (balance, what expires soon,
the last ledger entries), the tier history, and progress to the next tier or, for a falling
tier, its drop day and what keeps it, in words (the same card as
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
LEDGER = 5  # last points entries shown
KIND_WORDS = {
    "earn": "Earned",
    "bonus": "Bonus",
    "redeem": "Redeemed",
    "expire": "Expired",
    "adjust": "Adjusted",
    "return": "Taken back (return)",
}


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
    today = now.date()
    return {
        "program": program.name,
        "tiers": names,
        "decision": _decision(session, contact_id, tier, today),
        "points": _points(session, contact_id, program, today),
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


def _decision(
    session: Session, contact_id: str, tier: ContactTier | None, today: dt.date
) -> dict[str, str] | None:
    """The decision in force that holds the contact's tier (why, until when, by whom)."""
    from lealta.loyalty.overrides import active

    found = active(session, today, [contact_id]).get(contact_id)
    if found is None or tier is None or tier.tier != found.tier:
        return None  # none, or set under another programme version: the next review places it
    return {
        "tier": found.tier,
        "reason": found.reason,
        "until": day_label(found.until) if found.until else "",
        "until_iso": found.until.isoformat() if found.until else "",
        "set_by": found.set_by,
        "set_on": day_label(found.set_at.date()),
    }


def _points(
    session: Session, contact_id: str, program: Any, today: dt.date
) -> dict[str, Any] | None:
    """Balance, its value, what expires soon (by day) and the last entries; None when the
    programme has no points."""
    from lealta.loyalty import ledger

    if program.points is None:
        return None
    found = ledger.balance(session, contact_id, program, today=today)
    entries = ledger.history(session, contact_id, limit=LEDGER)
    return {
        "balance": found.balance,
        "value": found.value,
        "currency": program.currency,
        "expiring": [{"date": day_label(day), "points": n} for day, n in found.expiring],
        "entries": [
            {
                "kind": KIND_WORDS.get(e.kind, e.kind),
                "points": e.points,
                "balance": e.balance,
                "date": day_label(e.created_at.date()),
                "about": e.reason
                or (f"order {e.order_id}" if e.order_id else "")
                or (f"voucher {e.voucher_code}" if e.voucher_code else ""),
            }
            for e in entries
        ],
    }


def progress_words(session: Session, contact_id: str, now: dt.datetime) -> dict[str, str]:
    """What the contact still needs for the next tier above theirs: ``words`` (empty when
    there is none, or the missing part is a score rather than orders or spend) and
    ``ordered`` (empty when the contact has no order yet, so nothing was judged); for a
    falling tier, ``keep`` (what keeps it), ``drops_on`` and ``drops_to`` (empty: no tier)."""
    from lealta.orders.tables import Order

    found = service.card(session, contact_id, now=now)
    progress = found.progress or {}
    ordered = session.scalar(select(Order.id).where(Order.contact_id == found.contact_id).limit(1))
    keep = found.keep or {}
    drops_on = keep.get("drops_on")
    return {
        "words": str(progress.get("words") or ""),
        "ordered": "yes" if ordered is not None else "",
        "keep": str(keep.get("words") or ""),
        "drops_on": day_label(drops_on) if isinstance(drops_on, dt.date) else "",
        "drops_to": str(keep.get("to_tier") or ""),
    }
