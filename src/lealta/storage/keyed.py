"""Selecting rows by a list of keys, the list's placeholders written once per length.

SQLAlchemy renders an expanding ``IN`` list anew at every execution (a bound parameter and a
unique name per value), which costs more than SQLite's own lookup of a few hundred keys; the
tracking processor runs such lookups for every batch (messages already applied, identifier
owners, profiles). :class:`KeyedSelect` compiles its statement once per dialect; on SQLite it
fills the list with ``?`` marks (the text kept per list length), hands the driver plain
values and converts the results by the selected columns' own processors (JSON by orjson).
Other databases get the statement through SQLAlchemy as it is. :func:`delete_keys` is the
same for deleting rows by key.

:func:`one_of` is the condition for statements built with SQLAlchemy as usual: the keys travel
as one parameter (a JSON array read with ``json_each`` on SQLite, an array on PostgreSQL), so
the statement's text is the same whatever their number and SQLAlchemy's compiled cache serves
it, where ``column.in_(keys)`` writes and names a parameter per key at every execution.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    Table,
    any_,
    bindparam,
    delete,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.sqltypes import NullType

from lealta.storage.bulk import converter, json_text

CHUNK = 2_000  # keys per query (SQLite's bound-parameter limit is 32,766)
TEXTS = 64  # statement texts kept per query (one per list length; a worker's batches vary)
Processor = Callable[[Any], Any] | None


class KeyedSelect:
    """A SELECT with one expanding bound parameter, ``keys``
    (``column.in_(bindparam("keys", expanding=True))``), run for any number of keys."""

    def __init__(self, statement: Select[*tuple[Any, ...]], *, keys: str = "keys") -> None:
        self.statement = statement
        self.keys = keys
        self._sqlite: _Compiled | None = None

    def rows(
        self, connection: Connection, keys: Sequence[Any], **params: Any
    ) -> list[tuple[Any, ...]]:
        """The rows for ``keys`` (queried :data:`CHUNK` at a time) and the other bound
        ``params``, each as a tuple of converted values."""
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(keys), CHUNK):
            part = list(keys[start : start + CHUNK])
            if connection.dialect.name != "sqlite":
                result = connection.execute(self.statement, {self.keys: part, **params})
                found.extend(tuple(row) for row in result)
                continue
            if self._sqlite is None:
                self._sqlite = _Compiled(self.statement, self.keys, connection.dialect)
            found.extend(self._sqlite.run(connection, part, params))
        return found


class _Compiled:
    """The statement compiled for SQLite, with the list's text per length."""

    def __init__(self, statement: Select[*tuple[Any, ...]], keys: str, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        self.marker = f"(__[POSTCOMPILE_{keys}])"
        if self.marker not in compiled.string or not compiled.positional:
            raise ValueError(f"the statement has no expanding parameter {keys!r}")
        self.template = compiled.string
        self.keys = keys
        self.names = list(compiled.positiontup or ())
        self.binds = {name: converter(bind.type, dialect) for name, bind in compiled.binds.items()}
        self.results = [
            (index, process)
            for index, column in enumerate(statement.selected_columns)
            if (process := _processor(column.type, dialect)) is not None
        ]
        self.texts: dict[int, str] = {}

    def run(
        self, connection: Connection, part: list[Any], params: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        text = self.texts.get(len(part))
        if text is None:
            if len(self.texts) >= TEXTS:
                self.texts.clear()
            marks = "(" + ", ".join("?" * len(part)) + ")"
            text = self.texts[len(part)] = self.template.replace(self.marker, marks)
        values: list[Any] = []
        for name in self.names:
            if name == self.keys:
                values.extend(part)
                continue
            convert = self.binds.get(name)
            value = params[name]
            values.append(convert(value) if convert is not None and value is not None else value)
        result = connection.exec_driver_sql(text, tuple(values))
        rows = list(result.cursor.fetchall())  # the driver's own tuples
        result.close()
        if not self.results:
            return rows
        if not rows:
            return rows
        columns = [list(values) for values in zip(*rows, strict=True)]
        for index, process in self.results:  # a column at a time: fewer calls than by row
            columns[index] = [v if v is None else process(v) for v in columns[index]]
        return list(zip(*columns, strict=True))


def _processor(kind: Any, dialect: Any) -> Processor:
    if isinstance(kind, JSON):
        return orjson.loads
    processor: Processor = kind.dialect_impl(dialect).result_processor(dialect, None)
    return processor


def one_of(
    where: Session | Connection,
    column: ColumnElement[Any] | QueryableAttribute[Any],
    keys: Sequence[Any],
) -> ColumnElement[bool]:
    """``column`` is one of ``keys`` (strings or whole numbers), for a statement run through
    ``where``: ``column IN (SELECT value FROM json_each(?))`` on SQLite, ``column = ANY(?)``
    on PostgreSQL, the keys one parameter either way."""
    bind = where.get_bind() if isinstance(where, Session) else where
    if isinstance(column, QueryableAttribute):
        column = column.expression
    if bind.dialect.name == "postgresql":
        kind = column.type
        if isinstance(kind, NullType):  # a lightweight ``table()``'s column: typed by the keys
            kind = Integer() if keys and all(isinstance(key, int) for key in keys) else String()
        return column == any_(bindparam(None, list(keys), type_=ARRAY(kind)))
    listed = func.json_each(bindparam(None, json_text(list(keys)), type_=String)).table_valued(
        "value"
    )
    return column.in_(select(listed.c.value))


def delete_keys(
    connection: Connection, table: Table, column: Column[Any], keys: Sequence[Any]
) -> None:
    """Delete the rows of ``table`` whose ``column`` is one of ``keys``: on SQLite by one
    prepared ``DELETE … WHERE column = ?`` run for every key (no list to render), elsewhere
    by one ``IN`` per :data:`CHUNK` keys."""
    if not keys:
        return
    if connection.dialect.name != "sqlite":
        for start in range(0, len(keys), CHUNK):
            part = list(keys[start : start + CHUNK])
            connection.execute(delete(table).where(column.in_(part)))
        return
    quote = connection.dialect.identifier_preparer.quote
    connection.exec_driver_sql(
        f"DELETE FROM {quote(table.name)} WHERE {quote(column.name)} = ?",
        [(key,) for key in keys],
    )
