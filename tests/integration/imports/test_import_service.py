"""Imports through the tracking pipeline, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from lealta.bootstrap import Services
from lealta.contacts.tables import Contact
from lealta.events.tables import Event
from lealta.identity.service import find_contact
from lealta.imports.service import ImportRequest, ImportResult, import_file
from lealta.orders.tables import Order
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories.services import services_for


@pytest.fixture
def services(uow: UnitOfWork, database_url: str) -> Services:
    return services_for(uow, database_url, process_in_server=True)


def run(services: Services, kind: str, path: Path, **options: object) -> ImportResult:
    request = ImportRequest(kind, path, **options)  # type: ignore[arg-type]
    return import_file(request, services)


def count(services: Services, table: type) -> int:
    with services.uow.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_contacts_are_created_and_a_changed_row_applies_again(
    services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(
        "customer_id,email,first_name,tier\n"
        "c1,ana@example.com,Ana,gold\n"
        "c2,ben@example.com,Ben,\n"
        ",broken,Nobody,\n"
    )
    result = run(services, "contacts", path)
    assert (result.rows, result.messages, result.rejected) == (3, 2, 1)
    assert result.added["contacts"] == 2
    with services.uow.transaction() as session:
        ana = find_contact(session, "email", "ana@example.com")
        assert ana is not None
        assert ana.attributes["first_name"] == "Ana"
        assert ana.attributes["tier"] == "gold"
        assert find_contact(session, "user_id", "c1") == ana
    events = count(services, Event)
    again = run(services, "contacts", path)
    assert again.added == {"contacts": 0, "orders": 0, "events": 0}
    assert count(services, Event) == events
    path.write_text("customer_id,email,first_name,tier\nc1,ana@example.com,Ana,platinum\n")
    changed = run(services, "contacts", path)
    assert changed.added["contacts"] == 0
    with services.uow.transaction() as session:
        ana = find_contact(session, "user_id", "c1")
        assert ana is not None
        assert ana.attributes["tier"] == "platinum"


def test_orders_reach_profiles_once(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,email,date,total,payment_method,due_date,paid_date\n"
        "A1,ana@example.com,2025-01-05 10:00,100.50,invoice,2025-02-04,2025-02-10\n"
        "A2,ana@example.com,2025-01-20 10:00,20,card,,\n"
        "B1,ben@example.com,2025-01-07 10:00,35.10,card,,\n"
    )
    result = run(services, "orders", path)
    assert result.rejected == 0
    assert result.added["orders"] == 3
    assert result.added["contacts"] == 2
    with services.uow.transaction() as session:
        ana = find_contact(session, "email", "ana@example.com")
        assert ana is not None
        assert ana.lifecycle_stage == "Customer"
        amounts = session.scalars(
            select(Order.amount).where(Order.contact_id == ana.id).order_by(Order.placed_at)
        ).all()
        assert [str(a) for a in amounts] == ["100.50", "20.00"]
        paid = session.scalar(select(Order.paid_date).where(Order.external_id == "A1"))
        assert str(paid) == "2025-02-10"
    again = run(services, "orders", path)
    assert again.added == {"contacts": 0, "orders": 0, "events": 0}


def test_events_from_json_lines(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"type": "track", "event": "Signed Up", "userId": "u1",'
        ' "timestamp": "2025-01-01T00:00:00Z"}\n'
        '{"type": "page", "name": "Home", "anonymousId": "a1", "properties": {"path": "/"}}\n'
        '{"type": "purchase", "userId": "u1"}\n'
        '{"type": "track", "event": "Opened", "email": "ana@example.com"}\n'
    )
    result = run(services, "events", path)
    assert [(r.line, r.field) for r in result.rejections.shown] == [(3, "type")]
    assert result.added["contacts"] == 3
    with services.uow.transaction() as session:
        names = set(session.scalars(select(Event.name).where(Event.type.in_(["track", "page"]))))
        assert {"Signed Up", "Home", "Opened"} <= names
    again = run(services, "events", path)
    assert again.added["events"] == 0


def test_a_dry_run_writes_nothing(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("email\nana@example.com\nnot-an-email\n")
    result = import_file(ImportRequest("contacts", path, dry_run=True), None)
    assert (result.messages, result.rejected) == (1, 1)
    assert count(services, Contact) == 0


def test_typed_parquet_orders(services: Services, tmp_path: Path) -> None:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "orders.parquet"
    pq.write_table(
        pa.table(
            {
                "InvoiceNo": ["P1", "P2", "P3"],
                "CustomerID": [17850.0, 13047.0, None],
                "InvoiceDate": [dt.datetime(2011, 1, 2, 9, 30)] * 3,
                "Total": [12.5, 3.0, 1.0],
            }
        ),
        path,
    )
    result = run(services, "orders", path)
    assert [(r.line, r.field) for r in result.rejections.shown] == [(3, "CustomerID")]
    assert result.added["orders"] == 2
    with services.uow.transaction() as session:
        contact = find_contact(session, "user_id", "17850")
        assert contact is not None
        placed = session.scalar(select(Order.placed_at).where(Order.external_id == "P1"))
        assert placed is not None
        assert placed.replace(tzinfo=None) == dt.datetime(2011, 1, 2, 9, 30)
