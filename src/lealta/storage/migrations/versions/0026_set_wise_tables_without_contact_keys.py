"""The three tables the loyalty review and the tracking processor write by the hundred
thousand rows, ``events``, ``loyalty_tier_changes`` and ``contact_tiers``, no longer declare a
foreign key to ``contacts``.

A contact row is never deleted (erasure and merging keep it as a tombstone,
``contacts.erased_at`` / ``merged_into``; only a contact created in the very batch that lost an
identity race is removed, before anything names it), and every writer of these tables takes
the contact ids from rows that are themselves keyed to ``contacts``: the tracking processor
from the contacts it resolved in the same transaction, the tier review from ``contact_rfm``,
``orders`` and ``loyalty_overrides`` (each with its foreign key), merging from the surviving
contact. So the check could never fail, yet every row paid for it: on PostgreSQL a trigger
per row that looks the contact up and locks its row (``FOR KEY SHARE``, which writes to the
contact's row), on SQLite a lookup per row. Measured on PostgreSQL at a million customers
(busy machine, CPU seconds, the server's included), the first loyalty review (708,211 tier
rows, history rows and events) went from 28.9 to 19.8 CPU s without the three keys; the tier
rows' key alone was 3.2 of it. Which tables may go without the key is pinned by a test
(``tests/integration/storage/test_contact_references.py``): every other table that names a
contact keeps its foreign key.

On PostgreSQL the constraints are dropped (instant). SQLite cannot drop a constraint, so each
table is rebuilt as SQLite documents it: the new table from the stored definition without the
key, every row copied, the old table dropped, the new one renamed, and each index made again
from its stored definition. That reads and writes the whole table once; the downgrade does the
same the other way.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNKEYED = ("events", "loyalty_tier_changes", "contact_tiers")


def _key(table: str) -> str:
    return f"fk_{table}_contact_id_contacts"


def upgrade() -> None:
    for table in UNKEYED:
        if op.get_bind().dialect.name == "sqlite":
            _rebuild(table, keyed=False)
        else:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {_key(table)}")  # fixed


def downgrade() -> None:
    for table in UNKEYED:
        if op.get_bind().dialect.name == "sqlite":
            _rebuild(table, keyed=True)
        else:
            op.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {_key(table)} "
                "FOREIGN KEY (contact_id) REFERENCES contacts (id)"
            )  # fixed names


# the key as SQLAlchemy writes it into SQLite's stored definition
_CLAUSE = r",\s*CONSTRAINT {key} FOREIGN KEY\s*\(contact_id\) REFERENCES contacts \(id\)"


def _rebuild(table: str, *, keyed: bool) -> None:
    """Rebuild SQLite's ``table`` with (``keyed``) or without its key to ``contacts``."""
    bind = op.get_bind()
    stored = bind.execute(
        text("SELECT type, sql FROM sqlite_master WHERE tbl_name = :t AND sql IS NOT NULL"),
        {"t": table},
    ).all()
    definition = next(sql for kind, sql in stored if kind == "table")
    indexes = [sql for kind, sql in stored if kind == "index"]
    clause = re.compile(_CLAUSE.format(key=_key(table)))
    if keyed:
        if clause.search(definition):
            return
        key = f"CONSTRAINT {_key(table)} FOREIGN KEY(contact_id) REFERENCES contacts (id)"
        head, tail = definition.rsplit(")", 1)
        changed = f"{head.rstrip()}, \n\t{key}\n){tail}"
    else:
        changed, found = clause.subn("", definition)
        if not found:
            return
    scratch = f"_rebuilt_{table}"
    changed = re.sub(rf"^CREATE TABLE \"?{table}\"?", f"CREATE TABLE {scratch}", changed)
    op.execute(changed)
    op.execute(f"INSERT INTO {scratch} SELECT * FROM {table}")  # fixed names
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {scratch} RENAME TO {table}")
    for sql in indexes:
        op.execute(sql)
