"""Which tables name a contact without a foreign key (migration 0026): only the three the
tier review and the tracking processor write set-wise, and the migration keeps their rows and
indexes both ways."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, text

from lealta.storage.engine import make_engine
from lealta.storage.migrate import downgrade, upgrade
from lealta.storage.tables import Base

NOW = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
UNKEYED = {"events", "loyalty_tier_changes", "contact_tiers"}

# SQLite's reflection skips expression indexes (events by lower-cased name)
pytestmark = pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index:sqlalchemy.exc.SAWarning"
)


def test_only_the_set_wise_tables_name_a_contact_without_a_foreign_key() -> None:
    unkeyed = set()
    for table in Base.metadata.tables.values():
        column = table.c.get("contact_id")
        if column is None:
            continue
        targets = {key.target_fullname for key in column.foreign_keys}
        if targets != {"contacts.id"}:
            unkeyed.add(table.name)
    assert unkeyed == UNKEYED


def _state(url: str) -> dict[str, object]:
    engine = make_engine(url)
    try:
        found: dict[str, object] = {}
        with engine.connect() as connection:
            for table in sorted(UNKEYED):
                found[f"{table} rows"] = connection.execute(
                    text(f"SELECT contact_id FROM {table} ORDER BY contact_id")  # fixed names
                ).all()
        inspector = inspect(engine)
        for table in sorted(UNKEYED):
            found[f"{table} keys"] = [
                (key["referred_table"], key["constrained_columns"])
                for key in inspector.get_foreign_keys(table)
            ]
            if engine.dialect.name == "sqlite":
                with engine.connect() as connection:
                    found[f"{table} indexes"] = sorted(
                        connection.scalars(
                            text(
                                "SELECT sql FROM sqlite_master "
                                "WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"
                            ),
                            {"t": table},
                        )
                    )
            else:
                with engine.connect() as connection:
                    found[f"{table} indexes"] = sorted(
                        connection.scalars(
                            text("SELECT indexdef FROM pg_indexes WHERE tablename = :t"),
                            {"t": table},
                        )
                    )
        return found
    finally:
        engine.dispose()


def test_the_keys_go_and_come_back_keeping_rows_and_indexes(empty_database_url: str) -> None:
    url = empty_database_url
    upgrade(url, "0025")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO contacts (id, created_at, updated_at, attributes, score, score_state)"
                " VALUES ('c1', :now, :now, '{}', 0, '{}')"
            ),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO events (message_id, contact_id, type, name, properties, context,"
                " occurred_at, received_at)"
                " VALUES ('m1', 'c1', 'track', 'Order Completed', '{}', '{}', :now, :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO contact_tiers (contact_id, tier, tier_rank, since, score_sum,"
                " program_version, computed_at)"
                " VALUES ('c1', 'Gold', 3, '2025-01-02', 12, 1, :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO loyalty_tier_changes (contact_id, from_tier, to_tier, changed_at,"
                " reason, program_version) VALUES ('c1', NULL, 'Gold', :now, 'score 12', 1)"
            ),
            {"now": NOW},
        )
    engine.dispose()
    before = _state(url)
    for table in UNKEYED:
        assert before[f"{table} keys"] == [("contacts", ["contact_id"])]

    upgrade(url)
    after = _state(url)
    for table in UNKEYED:
        assert after[f"{table} keys"] == []
    for table in UNKEYED:
        assert after[f"{table} rows"] == before[f"{table} rows"] == [("c1",)]
        assert after[f"{table} indexes"] == before[f"{table} indexes"]
    assert len(before["events indexes"]) >= 5  # type: ignore[arg-type]

    downgrade(url, "0025")
    assert _state(url) == before
