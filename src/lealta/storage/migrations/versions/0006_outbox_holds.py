"""Outbox holds: which sending rule holds a message (quiet hours and their window); a
workflow's runs by entry time.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_outbox_held", ["status", "hold"], unique=False)
    with op.batch_alter_table("workflow_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_workflow_runs_workflow", ["workflow_id", "entered_at"], unique=False
        )


def downgrade() -> None:
    # Held messages become plain pending ones again (due at the end of their hold).
    op.execute("UPDATE outbox SET status = 'pending' WHERE status = 'held'")
    with op.batch_alter_table("workflow_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_runs_workflow")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_held")
        batch_op.drop_column("hold")
