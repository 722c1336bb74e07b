"""Each contact's predicted value and churn risk (``contact_predictions``), written by
``lealta clv --from-store --save`` and the ``clv`` job, read by search, conditions and templates.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 17:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "contact_predictions"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("p_alive", sa.Double(), nullable=False),
        sa.Column("expected_purchases", sa.Double(), nullable=False),
        sa.Column("expected_spend", sa.Double(), nullable=False),
        sa.Column("clv", sa.Double(), nullable=False),
        sa.Column("churn_band", sa.String(length=8), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("params_version", sa.String(length=16), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_predictions_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_contact_predictions")),
    )
    for column in ("p_alive", "clv", "churn_band"):
        op.create_index(op.f(f"ix_{TABLE}_{column}"), TABLE, [column], unique=False)


def downgrade() -> None:
    for column in ("churn_band", "clv", "p_alive"):
        op.drop_index(op.f(f"ix_{TABLE}_{column}"), table_name=TABLE)
    op.drop_table(TABLE)
