"""Tiers given by decision (``loyalty_overrides``): a contact's tier kept, whatever the
reviews find, until a day or until removed, with who set it and why.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loyalty_overrides",
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_loyalty_overrides_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_loyalty_overrides")),
    )


def downgrade() -> None:
    op.drop_table("loyalty_overrides")
