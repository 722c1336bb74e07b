"""Fewer index entries per event: ``events.anonymous_id`` and ``events.user_id`` are indexed
only where set, and ``ix_events_name`` goes.

Every event paid an entry in eight indexes. The events Lealta writes itself (tier moves,
segment moves, points, sends) carry neither an anonymous id nor a user id, and no one looks up
a null one, so the two ids' indexes become partial (``… WHERE anonymous_id IS NOT NULL``;
still used by any ``anonymous_id = …``). ``ix_events_name`` (the exact name) served the
segment-move matrix, the points sweeps and the inactivity trigger, which now match the
lower-cased name too (:func:`lealta.events.names.named`) and so go through
``ix_events_name_time`` (lower(name), occurred_at; 0023), which also has the time they ask
about. Measured on PostgreSQL at a million
customers, the first loyalty review's 708,211 events cost the server about 1.8 CPU s less
(of about 15, on a busy machine).

Cost on a big table: the partial indexes are built by reading the whole table while writes to
``events`` wait (see 0023). On a large live PostgreSQL store, build them by hand first without
blocking the tracking, then run ``lealta db upgrade`` (it finds them and drops the old ones,
which is quick)::

    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_events_anonymous_id_set
        ON events (anonymous_id) WHERE anonymous_id IS NOT NULL;
    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_events_user_id_set
        ON events (user_id) WHERE user_id IS NOT NULL;

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIAL = ("anonymous_id", "user_id")


def upgrade() -> None:
    # IF NOT EXISTS (both databases): indexes made beforehand by hand, CONCURRENTLY, are kept.
    for name in PARTIAL:
        op.execute(
            f"CREATE INDEX IF NOT EXISTS ix_events_{name}_set ON events ({name}) "
            f"WHERE {name} IS NOT NULL"
        )  # fixed names
        op.execute(f"DROP INDEX IF EXISTS ix_events_{name}")
    op.execute("DROP INDEX IF EXISTS ix_events_name")


def downgrade() -> None:
    op.create_index("ix_events_name", "events", ["name"])
    for name in PARTIAL:
        op.create_index(f"ix_events_{name}", "events", [name])
        op.drop_index(f"ix_events_{name}_set", table_name="events")
