"""Each contact's next-best categories or products (``contact_next_best``), written by
``lealta affinity --from-store`` and the ``next_best`` job, read by templates and conditions.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 16:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_next_best",
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_next_best_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("contact_id", "rank", name=op.f("pk_contact_next_best")),
    )
    op.create_index(
        "ix_contact_next_best_item", "contact_next_best", ["kind", "item", "rank"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_contact_next_best_item", table_name="contact_next_best")
    op.drop_table("contact_next_best")
