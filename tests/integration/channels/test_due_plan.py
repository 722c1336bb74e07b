"""A pass reads the due bulk messages off the (status, priority, id) index in order and stops
at its limit: it never reads and sorts the whole queue (which made a queue of N messages cost
N²/limit row reads on SQLite, whose planner keeps no statistics unless asked)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event

from lealta.channels.dispatcher import _due
from lealta.storage.unit_of_work import UnitOfWork

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_bulk_messages_are_read_in_index_order(uow: UnitOfWork) -> None:
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        statements.append((sql, parameters))

    event.listen(uow.engine, "before_cursor_execute", seen)
    try:
        with uow.transaction() as session:
            _due(session, NOW, 100, waiting=["sms"], quiet=None)
    finally:
        event.remove(uow.engine, "before_cursor_execute", seen)
    bulk = [(sql, p) for sql, p in statements if "outbox.priority = " in sql]
    assert len(bulk) == 1, statements
    sql, parameters = bulk[0]
    with uow.engine.connect() as connection:
        plan = [
            str(row[-1])
            for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
        ]
    assert any("ix_outbox_queue" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
