"""The events' indexes (migration 0025): the two visitor ids are indexed only where set, no
index on the exact name is left, and the queries that matched exact names still find only
those names."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, select

from lealta.contacts.tables import Contact
from lealta.events.names import named
from lealta.events.tables import Event
from lealta.storage.engine import make_engine
from lealta.storage.migrate import downgrade, upgrade
from lealta.storage.unit_of_work import UnitOfWork

NOW = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)

# SQLite's reflection skips expression indexes (events by lower-cased name)
pytestmark = pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index:sqlalchemy.exc.SAWarning"
)


def _indexes(database_url: str) -> dict[str, dict[str, object]]:
    engine = make_engine(database_url)
    try:
        return {str(ix["name"]): dict(ix) for ix in inspect(engine).get_indexes("events")}
    finally:
        engine.dispose()


def _where(index: dict[str, object]) -> str:
    options = index.get("dialect_options") or {}
    assert isinstance(options, dict)
    found = options.get("postgresql_where", options.get("sqlite_where"))
    return "" if found is None else str(found)


def test_visitor_ids_are_indexed_only_where_set(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    indexes = _indexes(empty_database_url)
    for column in ("anonymous_id", "user_id"):
        index = indexes[f"ix_events_{column}_set"]
        assert index["column_names"] == [column]
        assert "is not null" in _where(index).lower()
        assert f"ix_events_{column}" not in indexes
    assert [ix for ix in indexes.values() if ix["column_names"] == ["name"]] == []


def test_downgrade_brings_the_full_indexes_back(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    downgrade(empty_database_url, "0024")
    indexes = _indexes(empty_database_url)
    for column in ("anonymous_id", "user_id", "name"):
        assert indexes[f"ix_events_{column}"]["column_names"] == [column]
        assert _where(indexes[f"ix_events_{column}"]) == ""
    assert "ix_events_anonymous_id_set" not in indexes


def test_named_matches_exact_names_only(database_url: str) -> None:
    uow = UnitOfWork(make_engine(database_url))
    with uow.transaction() as session:
        session.add(Contact(id="c1", created_at=NOW, updated_at=NOW))
        for i, name in enumerate(["Segment Entered", "segment entered", "Segment Left", None]):
            session.add(
                Event(
                    message_id=f"m{i}",
                    contact_id="c1",
                    type="track",
                    name=name,
                    occurred_at=NOW,
                    received_at=NOW,
                )
            )
    with uow.transaction() as session:
        found = session.scalars(
            select(Event.message_id).where(*named(["Segment Entered", "Segment Left"]))
        ).all()
    uow.engine.dispose()
    assert sorted(found) == ["m0", "m2"]
