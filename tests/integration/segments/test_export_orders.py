"""The store's orders exported to Parquet for RFM and tier reviews: the same file on SQLite
(rows through the driver) and PostgreSQL (``COPY`` read by Arrow, lealta.storage.copy_out),
with nulls and empty text kept apart, awkward text intact and times in UTC without a zone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import text

from lealta.contacts.tables import Contact, Identifier
from lealta.orders.tables import Order
from lealta.segmentation.store import export_orders
from lealta.storage.engine import make_engine
from lealta.storage.unit_of_work import UnitOfWork

NOW = dt.datetime(2025, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
AWKWARD = 'a,"quoted"\nsecond line, ñ €'


def test_the_export_is_the_same_file_on_both_databases(database_url: str, tmp_path: Path) -> None:
    uow = UnitOfWork(make_engine(database_url))
    with uow.transaction() as session:
        for cid in ("c1", "c2", "c3"):
            session.add(Contact(id=cid, created_at=NOW, updated_at=NOW))
        session.flush()
        session.add_all(
            [
                Identifier(contact_id="c1", kind="email", value="b@example.com"),
                Identifier(contact_id="c1", kind="email", value="a@example.com"),
                Identifier(contact_id="c2", kind="phone", value="+34600000000"),
                Identifier(contact_id="c3", kind="email", value=AWKWARD),
            ]
        )
        session.add_all(
            [
                Order(
                    external_id="o-1", contact_id="c1", amount=Decimal("12.50"),
                    placed_at=dt.datetime(2025, 1, 2, 21, 30, 0, 123456, tzinfo=dt.UTC),
                    payment_method="", due_date=dt.date(2025, 1, 10),
                    paid_date=dt.date(2025, 1, 9),
                ),
                Order(
                    external_id=AWKWARD, contact_id="c2", amount=Decimal("999999999999.99"),
                    placed_at=dt.datetime(2024, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
                    payment_method=AWKWARD,
                ),
                Order(
                    external_id="", contact_id="c3", amount=Decimal("0.01"),
                    placed_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC), payment_method=None,
                ),
            ]
        )  # fmt: skip
    path = tmp_path / "orders.parquet"
    seen: list[tuple[float, str]] = []
    with uow.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            # the store keeps UTC; a session in another zone must not shift the file's times
            session.execute(text("SET LOCAL TIME ZONE 'Europe/Madrid'"))
        written = export_orders(session, path, progress=lambda f, step: seen.append((f, step)))
    uow.engine.dispose()
    assert written == 3
    assert seen[0] == (0.0, "Reading 3 orders")
    assert seen[-1] == (1.0, "Reading 3 orders")
    table = pq.read_table(path)
    assert table.schema.names == [
        "customer_id", "order_id", "placed_at", "amount", "payment_method", "due_date",
        "paid_date", "email",
    ]  # fmt: skip
    assert str(table.schema.field("placed_at").type) == "timestamp[us]"
    assert table.to_pylist() == [
        {
            "customer_id": "c1", "order_id": "o-1",
            "placed_at": dt.datetime(2025, 1, 2, 21, 30, 0, 123456), "amount": 12.5,
            "payment_method": "", "due_date": dt.date(2025, 1, 10),
            "paid_date": dt.date(2025, 1, 9), "email": "a@example.com",
        },
        {
            "customer_id": "c2", "order_id": AWKWARD,
            "placed_at": dt.datetime(2024, 12, 31, 23, 59, 59), "amount": 999999999999.99,
            "payment_method": AWKWARD, "due_date": None, "paid_date": None, "email": None,
        },
        {
            "customer_id": "c3", "order_id": "", "placed_at": dt.datetime(2025, 2, 1),
            "amount": 0.01, "payment_method": None, "due_date": None, "paid_date": None,
            "email": AWKWARD,
        },
    ]  # fmt: skip


def test_an_empty_store_gives_an_empty_file(database_url: str, tmp_path: Path) -> None:
    uow = UnitOfWork(make_engine(database_url))
    path = tmp_path / "orders.parquet"
    with uow.transaction() as session:
        assert export_orders(session, path) == 0
    uow.engine.dispose()
    table = pq.read_table(path)
    assert table.num_rows == 0
    assert table.schema.names[:3] == ["customer_id", "order_id", "placed_at"]
