"""Inserts that skip rows whose unique key already exists, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring(
    session: Session,
    table: Table | Any,
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str],
) -> None:
    """``INSERT … ON CONFLICT (conflict) DO NOTHING`` of ``rows`` (one statement, many rows)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    session.execute(statement, list(rows))
