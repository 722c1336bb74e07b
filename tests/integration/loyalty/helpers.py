"""A small programme and orders for the loyalty integration tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import select

from lealta.bootstrap import Services
from lealta.clock import FrozenClock
from lealta.identity.service import find_contact
from lealta.loyalty.tables import ContactTier
from tests.integration.conftest import Api

PROGRAM = """
name: Friends
window_days: 365
tiers:
  - name: Member
    benefits: [{type: free_shipping, code: SHIP50, min_order: 50}]
  - name: Silver
    qualify: {orders: 2}
    benefits: [{type: percent_discount, code: SILVER5, percent: 5}]
  - name: Gold
    qualify: {any: [{orders: 4}, {spend: 500}]}
    benefits: [{type: percent_discount, code: GOLD10, percent: 10}]
status: {keep_until: end_of_next_year, grace_days: 30, max_steps_down: 1}
"""


def post_orders(api: Api, orders: list[tuple[str, str, dt.date, str]]) -> None:
    """Post (customer, order id, day, amount) orders and apply them."""
    batch: list[dict[str, Any]] = [
        {"user_id": who, "id": oid, "placed_at": f"{day}T12:00:00Z", "amount": amount}
        for who, oid, day, amount in orders
    ]
    answer = api.client.post("/v1/orders/batch", json={"orders": batch}, headers=api.admin)
    assert answer.json()["accepted"] == len(orders), answer.text
    api.drain()


def ids(api: Api, *names: str) -> dict[str, str]:
    with api.services.uow.transaction() as session:
        found = {name: find_contact(session, "user_id", name) for name in names}
        return {name: c.id for name, c in found.items() if c is not None}


def at(services: Services, day: dt.date) -> Services:
    """``services`` with a clock frozen at noon on ``day``."""
    moment = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    return dataclasses.replace(services, clock=FrozenClock(moment))


def tiers(api: Api) -> dict[str, ContactTier]:
    with api.services.uow.transaction() as session:
        rows = list(session.scalars(select(ContactTier)))
        session.expunge_all()
        return {row.contact_id: row for row in rows}
