"""Tier reviews leave erased and merged contacts out; erasure and merges clear their tiers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.contacts.tables import Contact
from lealta.events.tables import Event
from lealta.identity.service import merge
from lealta.loyalty import service
from lealta.loyalty.tables import TierChange
from lealta.orders.tables import Order
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import at, ids, post_orders, tiers
from tests.integration.loyalty.test_store_review import save_program

D = dt.date
ORDERS = [
    ("ana", "a1", D(2026, 1, 10), "100"),
    ("ana", "a2", D(2026, 2, 10), "450"),
    ("ben", "b1", D(2026, 1, 5), "20"),
    ("ben", "b2", D(2026, 2, 5), "20"),
]


def review_on(api: Api, day: dt.date) -> service.Review | None:
    return service.apply_program(at(api.services, day), as_of=day)


def count(session: Session, table: type[TierChange | Event | Order], *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def loyalty_events(api: Api, contact_id: str) -> int:
    with api.services.uow.transaction() as session:
        return count(session, Event, Event.contact_id == contact_id, Event.name.like("Loyalty%"))


def test_an_erased_customer_gets_no_tier_back_though_their_orders_stay(api: Api) -> None:
    post_orders(api, ORDERS)
    save_program(api)
    who = ids(api, "ana", "ben")
    review_on(api, D(2026, 3, 1))
    assert {who["ana"], who["ben"]} <= set(tiers(api))
    answer = api.client.delete(f"/v1/contacts/{who['ana']}", headers=api.admin)
    assert answer.status_code == 200, answer.text
    with api.services.uow.transaction() as session:
        assert count(session, TierChange, TierChange.contact_id == who["ana"]) == 0
        assert count(session, Order, Order.contact_id == who["ana"]) == 2
    assert who["ana"] not in tiers(api)
    events_before = loyalty_events(api, who["ana"])

    review = review_on(api, D(2026, 3, 2))

    assert review is not None
    assert (review.customers, review.tiers) == (1, {"Member": 0, "Silver": 1, "Gold": 0})
    assert set(tiers(api)) == {who["ben"]}
    with api.services.uow.transaction() as session:
        assert count(session, TierChange, TierChange.contact_id == who["ana"]) == 0
    assert loyalty_events(api, who["ana"]) == events_before


def test_a_tier_row_left_on_a_gone_contact_is_dropped_without_an_event(api: Api) -> None:
    post_orders(api, ORDERS)
    save_program(api)
    who = ids(api, "ana", "ben")
    review_on(api, D(2026, 3, 1))
    with api.services.uow.transaction() as session:
        ben = session.get(Contact, who["ben"])
        assert ben is not None
        ben.merged_into = who["ana"]  # as if merged before merges dropped the tier row
        changes = count(session, TierChange)
    assert loyalty_events(api, who["ben"]) == 1

    review_on(api, D(2026, 3, 2))

    assert who["ben"] not in tiers(api)
    assert tiers(api)[who["ana"]].tier == "Gold"
    with api.services.uow.transaction() as session:
        assert count(session, TierChange) == changes
    assert loyalty_events(api, who["ben"]) == 1


def test_a_merged_contact_leaves_no_tier_and_its_history_moves_to_the_survivor(
    api: Api,
) -> None:
    post_orders(api, ORDERS)
    save_program(api)
    who = ids(api, "ana", "ben")
    review_on(api, D(2026, 3, 1))
    with api.services.uow.transaction() as session:
        source, into = session.get(Contact, who["ben"]), session.get(Contact, who["ana"])
        assert source is not None
        assert into is not None
        merge(session, source, into=into, now=dt.datetime(2026, 3, 1, 13, tzinfo=dt.UTC))
    assert set(tiers(api)) == {who["ana"]}
    with api.services.uow.transaction() as session:
        assert count(session, TierChange, TierChange.contact_id == who["ben"]) == 0
        moved = session.scalars(
            select(TierChange.to_tier).where(TierChange.contact_id == who["ana"])
        ).all()
    assert sorted(moved) == ["Gold", "Silver"]

    review = review_on(api, D(2026, 3, 2))

    assert review is not None
    assert review.customers == 1
    assert set(tiers(api)) == {who["ana"]}
    exported = api.client.get(f"/v1/contacts/{who['ben']}/export", headers=api.admin).json()
    assert exported["loyalty_tier"]["tier"] == "Gold"
    assert sorted(h["to_tier"] for h in exported["loyalty_tier_history"]) == ["Gold", "Silver"]
