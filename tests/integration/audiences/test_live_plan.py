"""The live path's query for a batch starts from the batch's people: on SQLite it finds them
by primary key and probes each one's events through ix_events_contact_name_time (not the
whole window of events through ix_events_name_time, nor every contact); on PostgreSQL it
reads the batch's events of a name once, in a MATERIALIZED common table expression."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine

from lealta.audiences.definition import load_condition
from lealta.audiences.live import differences_query
from lealta.storage.unit_of_work import UnitOfWork

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
LOOKERS = {
    "kind": "all",
    "conditions": [
        {
            "kind": "event_count",
            "event": "Product Viewed",
            "within_days": 14,
            "gte": 3,
            "where": [{"property": "category", "op": "equals", "value": "shoes"}],
        },
        {"kind": "tag", "tag": "no-marketing", "present": False},
        {"kind": "message", "template": "welcome", "action": "opened", "within_days": 7},
    ],
}
PEOPLE = [f"{n:032x}" for n in range(1, 301)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_the_batch_is_found_by_key_and_each_person_probed(uow: UnitOfWork) -> None:
    query = differences_query(1, load_condition(LOOKERS), PEOPLE, NOW)
    with uow.engine.connect() as connection:
        compiled = query.compile(connection, compile_kwargs={"render_postcompile": True})
        values = tuple(compiled.params[name] for name in compiled.positiontup or ())
        found = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)
        plan = [str(row[-1]) for row in found]
    assert any(step.startswith("SEARCH contacts USING") for step in plan), plan
    assert not any(step.startswith("SCAN contacts") for step in plan), plan
    assert any("ix_events_contact_name_time" in step for step in plan), plan
    assert not any("ix_events_name_time" in step for step in plan), plan


def test_on_postgresql_the_batch_events_are_read_once() -> None:
    query = differences_query(1, load_condition(LOOKERS), PEOPLE, NOW)
    dialect = create_engine("postgresql+psycopg://").dialect  # never connects
    sql = str(query.compile(dialect=dialect))
    assert sql.count("AS MATERIALIZED") == 2  # the event count and the message
    assert "= ANY (%(people)s::VARCHAR[])" in sql
