"""Index only merged contacts (a full index on a nearly all-NULL column misleads SQLite's
planner into scanning contacts), and index contact_rfm.computed_at (the latest scoring).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 07:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MERGED = sa.text("merged_into IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_contacts_merged_into", table_name="contacts")
    op.create_index(
        "ix_contacts_merged_into",
        "contacts",
        ["merged_into"],
        sqlite_where=MERGED,
        postgresql_where=MERGED,
    )
    op.create_index("ix_contact_rfm_computed_at", "contact_rfm", ["computed_at"])


def downgrade() -> None:
    op.drop_index("ix_contact_rfm_computed_at", table_name="contact_rfm")
    op.drop_index("ix_contacts_merged_into", table_name="contacts")
    op.create_index("ix_contacts_merged_into", "contacts", ["merged_into"])
