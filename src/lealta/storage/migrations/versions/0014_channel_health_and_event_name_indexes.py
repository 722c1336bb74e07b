"""Indexes for two looks that walked far too many rows at ten million messages and events:
the settings page's "is this channel working" (the newest sent or failed message of one
channel: an outbox index by channel, status and time) and a simulation's or dry run's history
(a contact's events of the names a workflow tests, matched whatever their case: an index on
contact, lower-cased name and time).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 11:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_channel_health", "outbox", ["channel", "status", "not_before"])
    op.create_index(
        "ix_events_contact_name_time",
        "events",
        ["contact_id", sa.text("lower(name)"), "occurred_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_events_contact_name_time", table_name="events")
    op.drop_index("ix_outbox_channel_health", table_name="outbox")
