"""Writing many rows at once: what a runner batch and a set-based enrolment write.

SQLAlchemy's ``executemany`` converts every parameter of every row through its generic
machinery, which costs more than the database's own work on the tens of thousands of rows a
runner batch writes. Here:

* **SQLite** (and small batches on PostgreSQL): the statement is compiled once, each value is
  converted by its column type's own bind processor (JSON with orjson), values shared by every
  row are converted once, and the driver gets plain tuples in one ``executemany``.
* **PostgreSQL**, from :data:`COPY_FROM` rows: the rows are streamed with ``COPY``, straight
  into the table for a plain insert, else into a temporary table (dropped at commit) from which
  one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` or one ``UPDATE … FROM`` applies them. The
  temporary table is analysed first, so the update looks rows up by key.

Column and table names come from the table definitions, never from input.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Table, bindparam, column, insert, select, table, update
from sqlalchemy.dialects import postgresql, sqlite

COPY_FROM = 200
Converter = Callable[[Any], Any] | None


def insert_rows(
    connection: Connection,
    target: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    shared: Mapping[str, Any] | None = None,
    skip_conflicts_on: Sequence[str] | None = None,
) -> None:
    """Insert ``rows`` (each with the keys of the first) plus the ``shared`` values.

    With ``skip_conflicts_on``, a row whose unique key is already there is skipped
    (``ON CONFLICT (…) DO NOTHING``). Python-side column defaults are not applied: a column
    that has one must be given (``ValueError`` otherwise).
    """
    if not rows:
        return
    values = dict(shared or {})
    if _copies(connection, rows):
        names = [*rows[0], *values]
        _complete(target, names, [c.key for c in target.columns if c.default is not None])
        if skip_conflicts_on is None:
            _copy(connection, target.name, target, names, rows, values)
            return
        staged = _stage(connection, target, names, rows, values)
        statement = postgresql.insert(target).from_select(
            names, select(*[staged.c[name] for name in names])
        )
        connection.execute(statement.on_conflict_do_nothing(index_elements=list(skip_conflicts_on)))
        return
    if skip_conflicts_on is None:
        statement_ = insert(target).inline()
    else:
        module: Any = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement_ = (
            module.insert(target)
            .on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
            .inline()
        )
    _executemany(connection, statement_, rows, values)


def update_rows(
    connection: Connection,
    target: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: str,
    shared: Mapping[str, Any] | None = None,
) -> None:
    """Set, in the row whose ``key`` column equals each row's ``key``, the row's other values
    and the ``shared`` ones. Columns with an ``onupdate`` must be given (``ValueError``)."""
    if not rows:
        return
    values = dict(shared or {})
    changed = [name for name in rows[0] if name != key]
    if _copies(connection, rows):
        names = [key, *changed, *values]
        _complete(target, names, [c.key for c in target.columns if c.onupdate is not None])
        staged = _stage(connection, target, names, rows, values)
        connection.exec_driver_sql(f"ANALYZE {_quote(connection, staged.name)}")
        connection.execute(
            update(target)
            .where(target.c[key] == staged.c[key])
            .values({name: staged.c[name] for name in [*changed, *values]})
        )
        return
    statement = update(target).where(target.c[key] == bindparam("bulk_key"))
    _executemany(connection, statement, rows, values, renamed={"bulk_key": key})


# -- SQLite, and small batches ---------------------------------------------------------------


def _executemany(
    connection: Connection,
    statement: Any,
    rows: Sequence[Mapping[str, Any]],
    shared: Mapping[str, Any],
    *,
    renamed: Mapping[str, str] | None = None,
) -> None:
    """One driver ``executemany`` of the compiled statement, values converted as SQLAlchemy
    would (see the module docstring)."""
    renamed = renamed or {}
    dialect = connection.dialect
    taken = set(renamed.values())
    keys = [name for name in rows[0] if name not in taken]
    compiled = statement.compile(dialect=dialect, column_keys=[*keys, *shared])
    names: Sequence[str] = (
        compiled.positiontup
        if compiled.positional and compiled.positiontup is not None
        else list(compiled.binds)
    )
    converters = {name: _converter(bind.type, dialect) for name, bind in compiled.binds.items()}
    fixed = {name: _apply(converters.get(name), value) for name, value in shared.items()}
    plan = [(renamed.get(name, name), converters.get(name), name in fixed, name) for name in names]
    missing = [name for name, _, is_fixed, _ in plan if not is_fixed and name not in rows[0]]
    if missing:
        raise ValueError(f"no values for {', '.join(missing)}")

    def values(row: Mapping[str, Any]) -> list[Any]:
        return [
            fixed[bound] if is_fixed else (convert(row[name]) if convert else row[name])
            for name, convert, is_fixed, bound in plan
        ]

    if compiled.positional:
        connection.exec_driver_sql(compiled.string, [tuple(values(row)) for row in rows])
    else:
        connection.exec_driver_sql(
            compiled.string, [dict(zip(names, values(row), strict=True)) for row in rows]
        )


def _converter(kind: Any, dialect: Any) -> Converter:
    if isinstance(kind, JSON) and dialect.name == "sqlite":
        return json_text
    processor: Converter = kind.dialect_impl(dialect).bind_processor(dialect)
    return processor


def _apply(convert: Converter, value: Any) -> Any:
    return convert(value) if convert else value


def json_text(value: Any) -> str:
    """``value`` as JSON text: orjson's, or the standard library's for what orjson refuses."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


# -- PostgreSQL: COPY ------------------------------------------------------------------------


def _copies(connection: Connection, rows: Sequence[Any]) -> bool:
    return connection.dialect.name == "postgresql" and len(rows) >= COPY_FROM


def _complete(target: Table, names: Sequence[str], defaulted: Sequence[str]) -> None:
    """Refuse, as the executemany path does, to leave out a column SQLAlchemy would fill."""
    missing = [name for name in defaulted if name not in names]
    if missing:
        raise ValueError(f"no values for {', '.join(missing)} of {target.name}")


def _quote(connection: Connection, name: str) -> str:
    return str(connection.dialect.identifier_preparer.quote(name))


def _stage(
    connection: Connection,
    target: Table,
    names: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    shared: Mapping[str, Any],
) -> Any:
    """A temporary table with ``names`` typed as in ``target``, holding the rows.

    One per target and set of columns: a transaction may stage rows for the same table twice
    with other columns (an update, then an insert), and the table is kept until it ends.
    """
    shape = hashlib.blake2s(",".join(names).encode(), digest_size=4).hexdigest()
    staged = f"bulk_{target.name}_{shape}"
    quoted = ", ".join(_quote(connection, name) for name in names)
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_quote(connection, staged)} ON COMMIT DROP AS "
        f"SELECT {quoted} FROM {_quote(connection, target.name)} WITH NO DATA"
    )
    connection.exec_driver_sql(f"TRUNCATE {_quote(connection, staged)}")
    _copy(connection, staged, target, names, rows, shared)
    return table(staged, *[column(name) for name in names])


def _copy(
    connection: Connection,
    into: str,
    target: Table,
    names: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    shared: Mapping[str, Any],
) -> None:
    """Stream the rows into table ``into`` (columns typed as ``target``'s) with ``COPY``."""
    as_json = {name for name in names if isinstance(target.c[name].type, JSON)}
    fixed = [json_text(value) if name in as_json else value for name, value in shared.items()]
    own = [name for name in names if name not in shared]
    plan = [(name, name in as_json) for name in own]
    quoted = ", ".join(_quote(connection, name) for name in names)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {_quote(connection, into)} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [json_text(row[name]) if is_json else row[name] for name, is_json in plan] + fixed
            )


# -- one statement, many single executions ---------------------------------------------------


class Prepared:
    """A statement compiled once for a dialect and run with plain values, for statements a
    loop runs once per item (the dispatcher's per-message updates): SQLAlchemy's per-execution
    work (cache key, compilation lookup, parameter processing) costs more than SQLite's.

    Values are converted by the bound columns' own processors, as SQLAlchemy would.
    """

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self.positional: bool = bool(compiled.positional)
        self.names: list[str] = list(
            compiled.positiontup if compiled.positional and compiled.positiontup else compiled.binds
        )
        self.fixed = {name: bind.value for name, bind in compiled.binds.items()}
        self.converters = {
            name: _converter(bind.type, dialect) for name, bind in compiled.binds.items()
        }

    def run(self, connection: Connection, values: Mapping[str, Any]) -> int:
        """Execute with ``values`` (by bind name); the number of rows it touched."""
        ordered = []
        for name in self.names:
            value = values[name] if name in values else self.fixed[name]
            convert = self.converters.get(name)
            ordered.append(convert(value) if convert is not None and value is not None else value)
        parameters: Any = (
            tuple(ordered) if self.positional else dict(zip(self.names, ordered, strict=True))
        )
        result = connection.exec_driver_sql(self.sql, parameters)
        return int(result.rowcount)


class Statements:
    """:class:`Prepared` forms of some statements, per dialect, made on first use."""

    def __init__(self, **statements: Any) -> None:
        self._statements = statements
        self._prepared: dict[tuple[str, str], Prepared] = {}

    def run(self, connection: Connection, name: str, values: Mapping[str, Any]) -> int:
        """Run statement ``name`` with ``values``; the rows it touched."""
        key = (connection.dialect.name, name)
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = self._prepared[key] = Prepared(self._statements[name], connection.dialect)
        return prepared.run(connection, values)
