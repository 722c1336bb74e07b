"""An index on events by lower-cased name and time (``ix_events_name_time``), for the
set-wise side of the condition language: "everyone with 3 ``Product Viewed`` in 14 days"
reads only that name's events of the window instead of every contact's history
(:mod:`lealta.conditions.sql`, whose name comparison is ``lower(name) = …`` like the index).

Cost on a big table: alembic runs each migration inside one transaction, where PostgreSQL
cannot ``CREATE INDEX CONCURRENTLY``; a plain ``CREATE INDEX`` holds a lock that blocks writes
to ``events`` (tracking waits; reads go on) while it reads the whole table and sorts it: on the
2-core development machine about a minute per ten million events on PostgreSQL and SQLite, and
about 40 bytes per event on disk. On a large live PostgreSQL store, create it by hand first,
without blocking the tracking::

    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_events_name_time
        ON events (lower(name), occurred_at);

then run ``lealta db upgrade``: it finds the index there and only records the revision.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 19:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # IF NOT EXISTS (both databases): an index made beforehand by hand, CONCURRENTLY, is kept.
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_events_name_time ON events (lower(name), occurred_at)"
    )


def downgrade() -> None:
    op.drop_index("ix_events_name_time", table_name="events")
