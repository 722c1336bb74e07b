"""Changing many outbox rows in one statement, each with values of its own (its attempt count,
its provider id): what the dispatcher runs once per chunk rather than once per message.

The rows travel as one parameter whatever their number, so the statement's text is the same
for every chunk and neither SQLAlchemy nor the database compiles it again: on SQLite a JSON
array of arrays read with ``json_each``, on PostgreSQL one array per column read with
``unnest``. Each statement is a constant below; the values are only ever parameters.

On SQLite the outbox's own conditions are written ``+outbox.status``: the unary plus keeps
the planner from walking the status indexes (every row being sent) and makes it look each
row up by its id instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, TextClause, bindparam, text

from lealta.channels.tables import OutboxMessage
from lealta.storage.bulk import json_text

# (SQL type on PostgreSQL) of each value of a row, in order.
_TYPES = {
    "start": ("BIGINT", "INTEGER"),  # id, attempts before
    "sent": ("BIGINT", "VARCHAR", "INTEGER"),  # id, provider id, attempts
    "claim": ("BIGINT",),  # id
}
# Each statement with ``{source}`` (the rows) and ``{0}``, ``{1}`` … (a row's values).
_STATEMENTS = {
    "start": (
        "UPDATE outbox SET status = 'sending', attempts = outbox.attempts + 1 FROM {source} "
        "WHERE outbox.id = {0} AND {plus}outbox.status = 'claimed' "
        "AND {plus}outbox.attempts = {1} RETURNING outbox.id"
    ),
    "sent": (
        "UPDATE outbox SET status = 'sent', sent_at = :at, error = NULL, provider_id = {1} "
        "FROM {source} WHERE outbox.id = {0} AND {plus}outbox.status = 'sending' "
        "AND {plus}outbox.attempts = {2} RETURNING outbox.id"
    ),
    "claim": (
        "UPDATE outbox SET status = 'claimed', not_before = :until, hold = NULL FROM {source} "
        "WHERE outbox.id = {0}"
    ),
}
_MOMENT = OutboxMessage.__table__.c.not_before.type


def _compiled(name: str, dialect: str) -> TextClause:
    types = _TYPES[name]
    if dialect == "postgresql":
        arrays = ", ".join(f"CAST(:c{i} AS {kind}[])" for i, kind in enumerate(types))
        names = ", ".join(f"c{i}" for i in range(len(types)))
        source = f"unnest({arrays}) AS mark ({names})"
        values = [f"mark.c{i}" for i in range(len(types))]
        plus = ""
    else:
        source = "json_each(:rows) AS mark"
        values = [f"json_extract(mark.value, '$[{i}]')" for i in range(len(types))]
        plus = "+"
    return text(_STATEMENTS[name].format(*values, source=source, plus=plus))


_CACHE: dict[tuple[str, str], TextClause] = {}


def run(
    connection: Connection, name: str, rows: Sequence[tuple[Any, ...]], **moments: dt.datetime
) -> set[int]:
    """Run statement ``name`` for ``rows`` (tuples of its values, the outbox id first) with
    the ``moments`` it names (``at``, ``until``); the ids of the rows it changed."""
    if not rows:
        return set()
    dialect = connection.dialect.name
    key = (name, dialect)
    statement = _CACHE.get(key)
    if statement is None:
        statement = _CACHE[key] = _compiled(name, dialect)
    statement = statement.bindparams(
        *(bindparam(moment, value, type_=_MOMENT) for moment, value in moments.items())
    )
    values: dict[str, Any]
    if dialect == "postgresql":
        values = {f"c{i}": list(column) for i, column in enumerate(zip(*rows, strict=True))}
    else:
        values = {"rows": json_text([list(row) for row in rows])}
    result = connection.execute(statement, values)
    return set(result.scalars()) if result.returns_rows else set()
