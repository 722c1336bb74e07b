"""The daily rollup of message figures (``message_days``) and its sweep's marks, filled from
the messages already sent; indexes on the send time of messages and on interactions by kind,
so reports read days and the period's opens, clicks and conversions instead of every row.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 08:10:00.000000
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"])
    op.create_index(
        "ix_message_interactions_kind_outbox", "message_interactions", ["kind", "outbox_id"]
    )
    op.create_table(
        "message_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("template", sa.String(200), nullable=False),
        sa.Column("workflow", sa.String(200), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.Numeric(16, 2), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "channel", "template", "workflow", "step", "kind", name="pk_message_days"
        ),
    )
    op.create_table(
        "message_days_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=False),
        sa.Column("interaction_id", sa.BigInteger(), nullable=False),
        sa.Column("swept_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_message_days_marks"),
    )
    # roll up what is already there, so reports are fast from the first request
    from lealta.feedback.rollup import sweep

    sweep(Session(bind=op.get_bind()), now=dt.datetime.now(dt.UTC))


def downgrade() -> None:
    op.drop_table("message_days_marks")
    op.drop_table("message_days")
    op.drop_index("ix_message_interactions_kind_outbox", table_name="message_interactions")
    op.drop_index("ix_outbox_sent_at", table_name="outbox")
