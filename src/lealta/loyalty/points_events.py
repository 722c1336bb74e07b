"""Points events on the contact's timeline, each a workflow trigger: ``Loyalty Points Earned``
for every credit (earned, bonus, added by hand) and ``Loyalty Points Expiring`` once per
contact and expiry day, ``warn_days`` before. Written set-wise; like the tier events, they
start the workflows they trigger and wake the runs waiting for them as a tracked event does
(:func:`lealta.automations.recording.record_events`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.orm import Session

EARNED = "Loyalty Points Earned"
EXPIRING = "Loyalty Points Expiring"


class Credited(Protocol):
    """An entry as its event needs it (a stored entry, or one a sweep just wrote)."""

    @property
    def contact_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def points(self) -> int: ...
    @property
    def balance(self) -> int: ...
    @property
    def reason(self) -> str: ...
    @property
    def order_id(self) -> str | None: ...
    @property
    def rule(self) -> str | None: ...
    @property
    def expires_on(self) -> dt.date | None: ...


def earned(session: Session, entries: Sequence[Credited], *, now: dt.datetime) -> int:
    """A ``Loyalty Points Earned`` event per credit in ``entries``; how many were written."""
    events = [
        {
            "message_id": f"points:{e.contact_id}:{e.seq}",
            "contact_id": e.contact_id,
            "name": EARNED,
            "properties": {
                "points": e.points,
                "balance": e.balance,
                "kind": e.kind,
                "order_id": e.order_id,
                "rule": e.rule,
                "reason": e.reason,
                "expires_on": e.expires_on.isoformat() if e.expires_on else None,
            },
        }
        for e in entries
        if e.points > 0
    ]
    return record(session, events, now=now)


def expiring(
    session: Session, warnings: Sequence[tuple[str, dt.date, int, int]], *, now: dt.datetime
) -> int:
    """A ``Loyalty Points Expiring`` event per (contact, expiry day, points, balance) not
    warned of yet; how many were new."""
    events = [
        {
            "message_id": f"points-expiring:{cid}:{day.isoformat()}",
            "contact_id": cid,
            "name": EXPIRING,
            "properties": {
                "points": points,
                "expires_on": day.isoformat(),
                "days_left": (day - now.date()).days,
                "balance": balance,
            },
        }
        for cid, day, points, balance in warnings
    ]
    return record(session, events, now=now)


def record(session: Session, events: list[dict[str, Any]], *, now: dt.datetime) -> int:
    """Write the events whose ``message_id`` is new, start the workflows they trigger and wake
    the runs waiting for them (:func:`lealta.automations.recording.record_events`, the path
    the tier events take too); how many were new (a replayed sweep writes none and starts
    nothing)."""
    from lealta.automations.recording import record_events

    return len(record_events(session, events, entry_key=f"loyalty:{now.isoformat()}", now=now))
