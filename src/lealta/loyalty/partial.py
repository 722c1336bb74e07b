"""Partial reviews: the tiers of a few customers (those whose orders just arrived), now.

A partial review reads only the given customers' own facts: their orders up to now (today's
included) and their stored RFM scores. What it may change is limited to what those facts
prove on their own:

* a customer qualifying above their tier (or for a first tier) **moves up** at once, with the
  events of any upgrade;
* a customer qualifying for their tier **renews** it (``until`` extended by the status rules)
  and a fall under way **ends**;
* nothing goes down and no fall starts: a customer found below their tier is left exactly as
  they were (scores are relative to every customer and are only recomputed by RFM; falls and
  downgrades are the full review's);
* no other contact is read or written; tiers by decision are kept.

It takes the full review's lock, so reviews never interleave (PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lealta.loyalty.tables import ContactTier

CHUNK = 1_000


@dataclass
class PartialReview:
    """What a partial review did."""

    version: int
    contacts: int = 0
    upgraded: int = 0
    renewed: int = 0


def review_contacts(
    session: Session, contact_ids: Collection[str], *, now: dt.datetime
) -> PartialReview | None:
    """Review the tiers of ``contact_ids`` in ``session``'s transaction (None: no programme).

    The caller's transaction is the unit: the lock is taken here and held until it ends.
    """
    from lealta.loyalty import prepared  # the assignment prepared once, not built per pass
    from lealta.loyalty.orders import orders_of
    from lealta.loyalty.overrides import active, impose
    from lealta.loyalty.service import _lock, _record_changes, _records, get
    from lealta.loyalty.status import review as decide
    from lealta.loyalty.status_points import with_status_points

    stored = get(session)
    if stored is None:
        return None
    _lock(session, stored.version)
    ids = sorted(set(contact_ids) - _gone_among(session, contact_ids))
    done = PartialReview(stored.version, len(ids))
    if not ids:
        return done
    today = now.date()
    tomorrow = today + dt.timedelta(days=1)
    scores = with_status_points(
        session, scores_of(session, ids), stored.program, as_of=tomorrow, contact_ids=ids
    )
    assigned = prepared.assign(orders_of(session, ids), stored.program, scores, tomorrow)
    current = _current_of(session, ids)
    state, changes = decide(current, assigned, stored.program, today=today)
    kept = active(session, today, ids)
    state, changes = impose(current, state, changes, kept, stored.program, today=today)
    # only what the customers' own facts prove: up, renewed, a fall ended, a decision
    down = set(changes["contact_id"][changes["direction"] == "down"])
    down -= set(kept)
    accepted = state[state["falling_since"].isna() & ~state["contact_id"].isin(list(down))]
    ups = changes[~changes["contact_id"].isin(list(down))]
    _replace(session, _records(accepted), stored.version, now)
    _record_changes(session, ups.reset_index(drop=True), stored.version, now)
    done.upgraded = len(ups)
    done.renewed = len(accepted) - len(ups)
    return done


def _gone_among(session: Session, ids: Collection[str]) -> set[str]:
    """Erased and merged contacts among ``ids``."""
    from sqlalchemy import or_

    from lealta.contacts.tables import Contact

    found: set[str] = set()
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), CHUNK):
        found |= set(
            session.scalars(
                select(Contact.id).where(
                    Contact.id.in_(wanted[start : start + CHUNK]),
                    or_(Contact.erased_at.is_not(None), Contact.merged_into.is_not(None)),
                )
            )
        )
    return found


def _current_of(session: Session, ids: list[str]) -> Any:
    """The stored tiers of ``ids`` (:data:`lealta.loyalty.status.CURRENT_COLUMNS`)."""
    import pandas as pd

    from lealta.loyalty.service import _frame
    from lealta.loyalty.status import CURRENT_COLUMNS

    parts = []
    for start in range(0, len(ids), CHUNK):
        query = select(
            ContactTier.contact_id,
            ContactTier.tier,
            ContactTier.since,
            ContactTier.until,
            ContactTier.falling_since,
        ).where(ContactTier.contact_id.in_(ids[start : start + CHUNK]))
        parts.append(_frame(session, query, list(CURRENT_COLUMNS)))
    return pd.concat(parts, ignore_index=True)


def _replace(session: Session, rows: list[dict[str, Any]], version: int, now: dt.datetime) -> None:
    """Write the accepted tier rows over those contacts' rows."""
    from lealta.loyalty.service import TIERS
    from lealta.storage import bulk

    ids = [r["contact_id"] for r in rows]
    for start in range(0, len(ids), CHUNK):
        session.execute(
            delete(ContactTier).where(ContactTier.contact_id.in_(ids[start : start + CHUNK]))
        )
    connection = session.connection()
    shared = {"program_version": version, "computed_at": now}
    for start in range(0, len(rows), CHUNK):
        bulk.insert_rows(connection, TIERS, rows[start : start + CHUNK], shared=shared)


def scores_of(session: Session, ids: list[str]) -> Any:
    """The stored RFM scores of ``ids`` as the assignment's ``scores`` frame."""
    import pandas as pd

    from lealta.segmentation.tables import ContactRfm

    rows: list[Any] = []
    for start in range(0, len(ids), CHUNK):
        rows += session.execute(
            select(
                ContactRfm.contact_id, ContactRfm.r, ContactRfm.f, ContactRfm.m, ContactRfm.p
            ).where(ContactRfm.contact_id.in_(ids[start : start + CHUNK]))
        ).all()
    columns = ["customer_id", "r_score", "f_score", "m_score", "p_score"]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    return frame.astype(dict.fromkeys(columns[1:], "Int64"))
