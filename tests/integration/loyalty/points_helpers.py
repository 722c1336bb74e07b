"""A programme with points, and helpers for the points ledger tests (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from lealta.clock import FrozenClock
from lealta.events.tables import Event
from lealta.loyalty import service
from lealta.loyalty.tables import PointsEntry
from tests.integration.conftest import Api

POINTS_PROGRAM = """
name: Friends
tiers:
  - name: Member
  - name: Gold
    qualify: {orders: 4}
points:
  per_unit: 1
  multipliers: {Gold: 2}
  expire_after_days: 90
  warn_days: 14
  point_value: 0.01
  min_balance: 0
  bonuses:
    - {event: Review Submitted, points: 40, max_per_day: 60, max_per_month: 100}
    - event: Content Shared
      name: advocacy
      where: [{property: network, op: equals, value: instagram}]
      points: 15
  redeem:
    - {code: EUR5, points: 500, kind: amount, value: 5, valid_days: 30}
    - {code: SHIP, points: 200, kind: free_shipping}
"""
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def with_points(api: Api, text: str = POINTS_PROGRAM) -> FrozenClock:
    """Save ``text`` as the programme in force and freeze the API's clock at :data:`START`."""
    clock = FrozenClock(START)
    api.services.clock = clock
    with api.services.uow.transaction() as session:
        service.save(session, text, now=START)
    return clock


def track(api: Api, user: str, event: str, at: dt.datetime, **properties: Any) -> None:
    """Send a tracked event for ``user`` and apply it."""
    message = {
        "type": "track",
        "userId": user,
        "event": event,
        "timestamp": at.isoformat(),
        "properties": properties,
    }
    assert api.client.post("/v1/track", auth=api.track_auth, json=message).is_success
    api.drain()


def order(api: Api, user: str, order_id: str, at: dt.datetime, amount: str) -> None:
    """Post one order of ``user`` and apply it."""
    body = {
        "orders": [{"user_id": user, "id": order_id, "placed_at": at.isoformat(), "amount": amount}]
    }
    answer = api.client.post("/v1/orders/batch", json=body, headers=api.admin)
    assert answer.json()["accepted"] == 1, answer.text
    api.drain()


def entries(api: Api, contact_id: str) -> list[PointsEntry]:
    """The contact's ledger, oldest first."""
    with api.services.uow.transaction() as session:
        rows = list(
            session.scalars(
                select(PointsEntry)
                .where(PointsEntry.contact_id == contact_id)
                .order_by(PointsEntry.seq)
            )
        )
        session.expunge_all()
        return rows


def events(api: Api, name: str) -> list[tuple[str | None, dict[str, Any]]]:
    """(contact, properties) of the events called ``name``, in order."""
    with api.services.uow.transaction() as session:
        rows = session.execute(
            select(Event.contact_id, Event.properties).where(Event.name == name).order_by(Event.id)
        ).all()
    return [(cid, props) for cid, props in rows]
