"""RFM on the store's orders: ``rfm_from_store`` and ``POST /v1/segmentation/rfm``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from lealta.identity.service import find_contact
from lealta.segmentation.store import rfm_from_store
from lealta.segmentation.tables import ContactRfm
from tests.integration.conftest import Api

# (customer, order id, day of March 2025, amount, days paid after the due date)
ORDERS = [
    ("ana", "o1", 1, "120.00", 0),
    ("ana", "o2", 20, "80.00", 0),
    ("ana", "o3", 28, "200.00", 2),
    ("ben", "o4", 2, "15.00", 30),
    ("cruz", "o5", 15, "60.00", 5),
    ("cruz", "o6", 27, "45.50", 0),
    ("dana", "o7", 5, "300.00", 10),
]


def post_orders(api: Api) -> None:
    batch: list[dict[str, Any]] = []
    for customer, order_id, day, amount, late in ORDERS:
        placed = dt.date(2025, 3, day)
        due = placed + dt.timedelta(days=10)
        batch.append(
            {
                "user_id": customer,
                "id": order_id,
                "placed_at": f"{placed}T12:00:00Z",
                "amount": amount,
                "due_date": str(due),
                "paid_date": str(due + dt.timedelta(days=late)),
                "payment_method": "card",
            }
        )
    answer = api.client.post("/v1/orders/batch", json={"orders": batch}, headers=api.admin)
    assert answer.json()["accepted"] == len(ORDERS)
    api.drain()


def contact_ids(api: Api) -> dict[str, str]:
    with api.services.uow.transaction() as session:
        found = {
            name: find_contact(session, "user_id", name) for name in ("ana", "ben", "cruz", "dana")
        }
        return {name: c.id for name, c in found.items() if c is not None}


def saved(api: Api) -> dict[str, ContactRfm]:
    with api.services.uow.transaction() as session:
        return {row.contact_id: row for row in session.scalars(select(ContactRfm))}


def test_scores_every_contact_and_saves_the_results(api: Api) -> None:
    post_orders(api)
    ids = contact_ids(api)
    frame = rfm_from_store(api.services, as_of="2025-04-01", payment="promptness")
    by_contact = frame.set_index("customer_id")
    ana = by_contact.loc[ids["ana"]]
    assert (ana.recency, ana.frequency, ana.monetary) == (4, 3, 400.0)
    rows = saved(api)
    assert set(rows) == set(ids.values())
    row = rows[ids["ana"]]
    assert (row.recency_days, row.frequency, row.monetary) == (4, 3, 400.0)
    assert row.segment == by_contact.loc[ids["ana"], "segment"]
    assert row.code == by_contact.loc[ids["ana"], "rfm_code"]
    assert row.p is not None
    assert row.payment is not None
    assert row.cluster is None
    as_of = row.as_of if row.as_of.tzinfo else row.as_of.replace(tzinfo=dt.UTC)
    assert as_of == dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
    ben = rows[ids["ben"]]
    assert (ben.recency_days, ben.frequency) == (30, 1)


def test_a_new_run_replaces_the_last_one(api: Api) -> None:
    post_orders(api)
    ids = contact_ids(api)
    rfm_from_store(api.services)
    assert len(saved(api)) == 4
    # Only orders before 10 March count now: cruz (first order on the 15th) drops out.
    frame = rfm_from_store(api.services, as_of="2025-03-10", clusters=2)
    rows = saved(api)
    assert set(rows) == {ids["ana"], ids["ben"], ids["dana"]}
    assert {r.frequency for r in rows.values()} == {1}
    assert all(r.cluster in (0, 1) and r.cluster_name for r in rows.values())
    assert set(frame["customer_id"]) == set(rows)


def test_the_endpoint_runs_rfm_and_counts_segments(api: Api) -> None:
    refused = api.client.post("/v1/segmentation/rfm", headers=api.admin)
    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "orders"
    post_orders(api)
    answer = api.client.post("/v1/segmentation/rfm", headers=api.admin)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["as_of"] == "2025-03-29"
    assert body["customers"] == 4
    assert sum(s["customers"] for s in body["segments"]) == 4
    stored: dict[str, int] = {}
    for row in saved(api).values():
        stored[row.segment] = stored.get(row.segment, 0) + 1
    assert {s["segment"]: s["customers"] for s in body["segments"]} == stored
    assert api.client.post("/v1/segmentation/rfm").status_code == 401
