"""Rows kept back until the end of a batch, then written a table at a time.

What one transaction adds row by row (a processor batch's events, score changes and stage
changes) costs far less written by one bulk insert per table (:mod:`lealta.storage.bulk`) than
as ORM objects flushed one statement at a time. Code that reads those tables back in the same
transaction calls :meth:`PendingRows.write` first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.state import InstanceState

from lealta.storage.base import Base
from lealta.storage.bulk import insert_columns, update_rows


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
            names = dict.fromkeys(name for row in rows for name in row)
            insert_columns(  # column by column: no dictionary per row
                connection,
                table,
                {name: [row.get(name) for row in rows] for name in names},
                skip_conflicts_on=list(unique) or None,
            )


def write_changed(
    session: Session,
    objects: Iterable[Base],
    columns: Sequence[str],
    *,
    key: str = "id",
    shared: Mapping[str, Any] | None = None,
) -> int:
    """Write the ``columns`` that changed (plus the ``shared`` values) of those stored
    ``objects`` (of one mapped class, whose primary key is ``key``) by one bulk UPDATE per set
    of columns changed, instead of the statement per object a session flush sends when the
    objects changed differently; those columns then count as unchanged for the session (and
    an object with nothing else changed as clean). Returns how many objects were written.
    """
    watched = set(columns)
    changed: list[tuple[Base, InstanceState[Any], set[str]]] = []
    for obj in objects:
        state = inspect(obj)
        if state.persistent and (names := watched.intersection(state.committed_state)):
            changed.append((obj, state, names))
    if not changed:
        return 0
    values = dict(shared or {})
    table = cast(Table, type(changed[0][0]).__table__)
    alike: dict[frozenset[str], list[Base]] = {}  # one statement per set of columns changed
    for obj, _, names in changed:
        alike.setdefault(frozenset(names), []).append(obj)
    for together, group in alike.items():
        ordered = [key, *(name for name in columns if name in together)]
        rows = [{name: getattr(obj, name) for name in ordered} for obj in group]
        update_rows(session.connection(), table, rows, key=key, shared=values)
    stored = watched.union(values)
    clean = []
    for obj, state, names in changed:
        if stored.issuperset(state.committed_state):  # nothing else changed: clean now
            state.dict.update(values)
            clean.append((state, state.dict))
            continue
        for name in names:
            set_committed_value(obj, name, getattr(obj, name))
        for name, value in values.items():
            set_committed_value(obj, name, value)
    if clean:
        InstanceState._commit_all_states(clean, session.identity_map)
    return len(changed)
