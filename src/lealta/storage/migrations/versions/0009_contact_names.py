"""Contacts' folded names for search (backfilled), the contact list's (created_at, id) index, and
an index on contact_rfm.cluster for the cluster filter.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000


def _search_name(attributes: Any) -> str | None:
    # Spelled out, not imported (lealta.contacts.names): a migration must not change with it.
    if isinstance(attributes, str):
        attributes = json.loads(attributes)
    if not isinstance(attributes, dict):
        return None
    words = [str(attributes[k]) for k in ("first_name", "last_name") if attributes.get(k)]
    if not words and attributes.get("name"):
        words = [str(attributes["name"])]
    decomposed = unicodedata.normalize("NFKD", " ".join(words).casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.split())[:200] or None


def _backfill() -> None:
    contacts = sa.table(
        "contacts",
        sa.column("id", sa.String()),
        sa.column("attributes", sa.JSON()),
        sa.column("search_name", sa.String()),
    )
    connection = op.get_bind()
    last = ""
    while True:
        rows = connection.execute(
            sa.select(contacts.c.id, contacts.c.attributes)
            .where(contacts.c.id > last)
            .order_by(contacts.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        named = [
            {"key": row.id, "name": name}
            for row in rows
            if (name := _search_name(row.attributes)) is not None
        ]
        if named:
            connection.execute(
                sa.update(contacts)
                .where(contacts.c.id == sa.bindparam("key"))
                .values(search_name=sa.bindparam("name")),
                named,
            )
        last = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_name", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_contacts_created_id", ["created_at", "id"], unique=False)
    with op.batch_alter_table("contact_rfm", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_rfm_cluster"), ["cluster"], unique=False)
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("contact_rfm", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_rfm_cluster"))
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_created_id")
        batch_op.drop_column("search_name")
