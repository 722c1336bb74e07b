"""Rows kept back until the end of a batch, then written a table at a time.

What one transaction adds row by row (a processor batch's events, score changes and stage
changes) costs far less written by one bulk insert per table (:mod:`lealta.storage.bulk`) than
as ORM objects flushed one statement at a time. Code that reads those tables back in the same
transaction calls :meth:`PendingRows.write` first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain
from operator import methodcaller
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from lealta.storage.base import Base
from lealta.storage.bulk import insert_columns


class PendingRows:
    """Rows to insert, grouped by table (and by the unique key whose conflicts are skipped);
    groups are written in the order they first received a row."""

    def __init__(self) -> None:
        self._groups: dict[tuple[Table, tuple[str, ...]], list[Mapping[str, Any]]] = {}

    def add(
        self,
        model: type[Base],
        row: Mapping[str, Any],
        *,
        skip_conflicts_on: Sequence[str] = (),
    ) -> None:
        """Keep ``row`` for the table of ``model``; with ``skip_conflicts_on``, a row whose
        unique key is already stored is dropped when written instead of failing."""
        table = cast(Table, model.__table__)
        self._groups.setdefault((table, tuple(skip_conflicts_on)), []).append(row)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._groups.values())

    def write(self, session: Session) -> None:
        """Insert every kept row (after flushing the session: rows may refer to its objects)."""
        if not self._groups:
            return
        session.flush()
        connection = session.connection()
        groups, self._groups = self._groups, {}
        for (table, unique), rows in groups.items():
            names = dict.fromkeys(chain.from_iterable(rows))  # every row's keys, in order
            insert_columns(  # column by column: no dictionary per row
                connection,
                table,
                {name: list(map(methodcaller("get", name), rows)) for name in names},
                skip_conflicts_on=list(unique) or None,
            )
