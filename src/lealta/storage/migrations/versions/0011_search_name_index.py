"""The folded names with their ids, for the search box: a part of a name matches anywhere in
it, so every entry is read, but from an index of short names rather than the table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 07:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_contacts_search_name", "contacts", ["search_name", "id"])


def downgrade() -> None:
    op.drop_index("ix_contacts_search_name", table_name="contacts")
