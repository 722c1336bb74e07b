"""The loyalty programme's versions (``loyalty_programs``), each contact's current tier
(``contact_tiers``) and the history of tier moves (``loyalty_tier_changes``).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loyalty_programs",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_loyalty_programs")),
    )
    op.create_table(
        "contact_tiers",
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=64), nullable=False),
        sa.Column("tier_rank", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("falling_since", sa.Date(), nullable=True),
        sa.Column("score_sum", sa.Integer(), nullable=True),
        sa.Column("qualified_by", sa.String(length=500), nullable=True),
        sa.Column("program_version", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_tiers_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_contact_tiers")),
    )
    op.create_index("ix_contact_tiers_tier", "contact_tiers", ["tier"])
    op.create_table(
        "loyalty_tier_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("from_tier", sa.String(length=64), nullable=True),
        sa.Column("to_tier", sa.String(length=64), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("program_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_loyalty_tier_changes_contact_id_contacts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_tier_changes")),
    )
    op.create_index(
        "ix_loyalty_tier_changes_contact_time", "loyalty_tier_changes", ["contact_id", "changed_at"]
    )
    op.create_index("ix_loyalty_tier_changes_changed_at", "loyalty_tier_changes", ["changed_at"])


def downgrade() -> None:
    op.drop_index("ix_loyalty_tier_changes_changed_at", table_name="loyalty_tier_changes")
    op.drop_index("ix_loyalty_tier_changes_contact_time", table_name="loyalty_tier_changes")
    op.drop_table("loyalty_tier_changes")
    op.drop_index("ix_contact_tiers_tier", table_name="contact_tiers")
    op.drop_table("contact_tiers")
    op.drop_table("loyalty_programs")
