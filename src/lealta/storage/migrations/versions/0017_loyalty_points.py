"""The loyalty points ledger (``loyalty_points``): one immutable row per entry, numbered per
contact (unique with the contact, so concurrent writers cannot both add the next one), with
the running balance (never below 0) and an idempotency key unique per contact.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loyalty_points",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("voucher_code", sa.String(length=32), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("unrecovered", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_loyalty_points_balance_not_negative")),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_loyalty_points_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_points")),
        sa.UniqueConstraint("contact_id", "seq", name="uq_loyalty_points_contact_seq"),
        sa.UniqueConstraint("contact_id", "key", name="uq_loyalty_points_contact_key"),
    )
    op.create_index("ix_loyalty_points_order", "loyalty_points", ["order_id", "kind"])
    op.create_index("ix_loyalty_points_expires", "loyalty_points", ["expires_on"])
    op.create_index("ix_loyalty_points_created_at", "loyalty_points", ["created_at"])


def downgrade() -> None:
    op.drop_table("loyalty_points")
