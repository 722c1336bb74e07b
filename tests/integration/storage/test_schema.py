"""The schema migrates up and down on SQLite and PostgreSQL, and its constraints hold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from lealta.storage.engine import make_engine
from lealta.storage.migrate import current_revision, downgrade, head_revision, upgrade
from lealta.storage.tables import Base, Contact, Event, Identifier, Order
from lealta.storage.unit_of_work import UnitOfWork

NOW = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands times back without a zone (stored as given, in UTC); PostgreSQL with one."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def test_upgrade_creates_every_table_and_downgrade_removes_them(empty_database_url: str) -> None:
    database_url = empty_database_url
    assert current_revision(database_url) is None
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
    engine = make_engine(database_url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()
    downgrade(database_url, "base")
    engine = make_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


# SQLite's reflection skips expression indexes (events by lower-cased name): PostgreSQL's run
# compares them.
@pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index:sqlalchemy.exc.SAWarning"
)
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_the_migrated_schema_matches_the_tables(empty_database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    database_url = empty_database_url
    upgrade(database_url)
    engine = make_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_contacts_events_and_orders_round_trip(database_url: str) -> None:
    upgrade(database_url)
    uow = UnitOfWork(make_engine(database_url))
    with uow.transaction() as session:
        contact = Contact(attributes={"city": "Sevilla", "birthday": "1990-05-01"})
        session.add(contact)
        session.flush()
        session.add(Identifier(contact_id=contact.id, kind="email", value="ana@example.com"))
        session.add(
            Event(
                message_id="m-1",
                contact_id=contact.id,
                type="track",
                name="Order Completed",
                properties={"revenue": 12.5, "products": [{"sku": "A"}]},
                occurred_at=NOW,
            )
        )
        session.add(
            Order(
                external_id="SO-1",
                contact_id=contact.id,
                placed_at=NOW,
                amount=Decimal("12.50"),
                items=[{"sku": "A", "category": "Shoes"}],
                due_date=dt.date(2025, 1, 16),
            )
        )
    with uow.transaction() as session:
        event = session.scalars(select(Event)).one()
        order = session.scalars(select(Order)).one()
        stored = session.get(Contact, event.contact_id)
    assert stored is not None
    assert stored.attributes["city"] == "Sevilla"
    assert event.properties["products"] == [{"sku": "A"}]
    assert as_utc(event.occurred_at) == NOW
    assert order.amount == Decimal("12.50")
    uow.engine.dispose()


def test_a_message_id_is_stored_once(database_url: str) -> None:
    upgrade(database_url)
    uow = UnitOfWork(make_engine(database_url))
    with uow.transaction() as session:
        session.add(Event(message_id="m-1", type="track", name="A", occurred_at=NOW))
    with pytest.raises(IntegrityError), uow.transaction() as session:
        session.add(Event(message_id="m-1", type="track", name="A", occurred_at=NOW))
    with uow.transaction() as session:
        assert session.scalar(text("SELECT count(*) FROM events")) == 1
    uow.engine.dispose()


def test_an_identifier_belongs_to_one_contact(database_url: str) -> None:
    upgrade(database_url)
    uow = UnitOfWork(make_engine(database_url))
    with uow.transaction() as session:
        first, second = Contact(), Contact()
        session.add_all([first, second])
        session.flush()
        session.add(Identifier(contact_id=first.id, kind="email", value="a@example.com"))
    with pytest.raises(IntegrityError), uow.transaction() as session:
        session.add(Identifier(contact_id=second.id, kind="email", value="a@example.com"))
    uow.engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/wal.db")
    with engine.connect() as connection:
        assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
        assert connection.scalar(text("PRAGMA foreign_keys")) == 1
    engine.dispose()
