"""``POST /v1/orders``, ``/v1/orders/batch`` and ``GET /v1/orders`` on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from lealta.events.tables import Event
from lealta.identity.service import find_contact
from lealta.orders.tables import Order
from tests.integration.conftest import Api


def order(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "user_id": "cust-1",
        "email": "Ana@Example.com",
        "id": "A-1001",
        "placed_at": "2025-03-01T10:30:00+01:00",
        "amount": "59.90",
        "currency": "eur",
        "items": [{"sku": "TEE-1", "name": "T-shirt", "price": "29.95", "quantity": 2}],
        "channel": "web",
        "payment_method": "invoice",
        "due_date": "2025-03-31",
        "paid_date": "2025-03-20",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def test_an_order_reaches_the_orders_table_and_makes_a_customer(api: Api) -> None:
    answer = api.client.post("/v1/orders", json=order(), headers=api.admin)
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"accepted": True, "messageId": "order:A-1001"}
    api.drain()
    with api.services.uow.transaction() as session:
        stored = session.scalars(select(Order)).one()
        contact = find_contact(session, "email", "ana@example.com")
        assert contact is not None
        assert find_contact(session, "user_id", "cust-1") == contact
        assert stored.contact_id == contact.id
        assert stored.amount == Decimal("59.90")
        assert stored.currency == "EUR"
        assert stored.payment_method == "invoice"
        assert str(stored.due_date) == "2025-03-31"
        assert stored.items[0]["sku"] == "TEE-1"
        assert contact.lifecycle_stage == "Customer"
    listed = api.client.get("/v1/orders", headers=api.admin).json()["orders"]
    assert [(o["id"], o["amount"], o["placed_at"]) for o in listed] == [
        ("A-1001", 59.9, "2025-03-01T09:30:00Z")
    ]


def test_a_retried_order_is_stored_once(api: Api) -> None:
    for _ in range(2):
        assert api.client.post("/v1/orders", json=order(), headers=api.admin).status_code == 202
        api.drain()
    changed = order(amount="99.00")  # same id: an order is a fact, the first copy stands
    assert api.client.post("/v1/orders", json=changed, headers=api.admin).status_code == 202
    api.drain()
    with api.services.uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        assert session.scalar(select(Order.amount)) == Decimal("59.90")
        named = select(func.count()).select_from(Event).where(Event.name == "Order Completed")
        assert session.scalar(named) == 1


def test_a_customer_known_only_by_email_gets_the_order(api: Api) -> None:
    body = order(user_id=None, email="solo@example.com")
    assert api.client.post("/v1/orders", json=body, headers=api.admin).status_code == 202
    api.drain()
    with api.services.uow.transaction() as session:
        contact = find_contact(session, "email", "solo@example.com")
        assert contact is not None
        assert session.scalar(select(Order.contact_id)) == contact.id


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"email": "not-an-address"}, 400, "email"),
        ({"user_id": None, "email": None}, 400, "user_id"),
        ({"phone": "12"}, 400, "phone"),
        ({"amount": "-5"}, 422, "amount"),
        ({"amount": "abc"}, 422, "amount"),
        ({"amount": "1.234"}, 422, "amount"),
        ({"placed_at": "yesterday"}, 422, "placed_at"),
        ({"currency": "EURO"}, 422, "currency"),
        ({"id": ""}, 422, "id"),
        ({"due_date": "2025-02-30"}, 422, "due_date"),
        ({"items": [{"quantity": -1}]}, 422, "items.0.quantity"),
        ({"colour": "red"}, 422, "colour"),
    ],
)
def test_a_bad_order_is_refused_naming_the_field(
    api: Api, changes: dict[str, Any], status: int, field: str
) -> None:
    body = order(**{k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        body.pop(key, None)
    answer = api.client.post("/v1/orders", json=body, headers=api.admin)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["field"] == field


def test_orders_need_an_admin_key(api: Api) -> None:
    assert api.client.post("/v1/orders", json=order()).status_code == 401
    answer = api.client.post("/v1/orders", json=order(), auth=api.track_auth)
    assert answer.status_code in (401, 403)
    assert api.client.get("/v1/orders").status_code == 401


def test_a_batch_keeps_good_orders_and_refuses_bad_ones_one_by_one(api: Api) -> None:
    batch = [
        order(id="B-1"),
        order(id="B-2", email="broken"),
        order(id="B-3", user_id="cust-2", email=None, amount="10"),
        order(id="B-4", amount="-1"),
    ]
    answer = api.client.post("/v1/orders/batch", json={"orders": batch}, headers=api.admin)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["accepted"] == 2
    assert body["messageIds"] == ["order:B-1", "order:B-3"]
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(1, "email"), (3, "amount")]
    api.drain()
    with api.services.uow.transaction() as session:
        assert sorted(session.scalars(select(Order.external_id))) == ["B-1", "B-3"]


def test_a_batch_with_only_bad_orders_is_a_400(api: Api) -> None:
    answer = api.client.post(
        "/v1/orders/batch", json={"orders": [order(amount="x")]}, headers=api.admin
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == "orders[0].amount"


def test_listing_filters_by_contact_and_time(api: Api) -> None:
    bodies = [
        order(id="L-1", placed_at="2025-01-10T00:00:00Z"),
        order(id="L-2", placed_at="2025-02-10T00:00:00Z"),
        order(id="L-3", user_id="other", email="other@example.com"),
    ]
    api.client.post("/v1/orders/batch", json={"orders": bodies}, headers=api.admin)
    api.drain()
    with api.services.uow.transaction() as session:
        contact = find_contact(session, "user_id", "cust-1")
        assert contact is not None
        contact_id = contact.id
    params = {"contact_id": contact_id}
    mine = api.client.get("/v1/orders", params=params, headers=api.admin).json()["orders"]
    assert [o["id"] for o in mine] == ["L-2", "L-1"]
    since = {**params, "since": "2025-02-01T00:00:00Z"}
    recent = api.client.get("/v1/orders", params=since, headers=api.admin).json()["orders"]
    assert [o["id"] for o in recent] == ["L-2"]
    until = {"until": "2025-02-01T00:00:00Z"}
    early = api.client.get("/v1/orders", params=until, headers=api.admin).json()["orders"]
    assert [o["id"] for o in early] == ["L-1"]
    limited = api.client.get("/v1/orders", params={"limit": 1}, headers=api.admin).json()
    assert len(limited["orders"]) == 1
    missing = api.client.get("/v1/orders", params={"contact_id": "nope"}, headers=api.admin)
    assert missing.status_code == 404
