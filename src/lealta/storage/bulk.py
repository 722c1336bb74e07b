"""Writing many rows at once: what a runner batch, a set-based enrolment and a loyalty review
write.

SQLAlchemy's ``executemany`` converts every parameter of every row through its generic
machinery, which costs more than the database's own work on the tens of thousands of rows a
runner batch writes. Rows come as dictionaries (:func:`insert_rows`) or column by column
(:func:`insert_columns`, :func:`insert_new`: a million rows without a dictionary each), and
are handled a column at a time:

* **SQLite** (and small batches on PostgreSQL): the statement is compiled once, each column is
  converted by its type's own bind processor (JSON with orjson, plain dates as ISO text),
  values shared by every row are converted once, and the driver gets plain tuples, in
  ``executemany`` calls of :data:`EXECUTE_CHUNK` rows.
* **PostgreSQL**, from :data:`COPY_FROM` rows: the rows are streamed with ``COPY``, straight
  into the table for a plain insert, else into a temporary table (dropped at commit) from which
  one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` or one ``UPDATE … FROM`` applies them. The
  temporary table is analysed first, so the update looks rows up by key.

Column and table names come from the table definitions, never from input.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from itertools import islice, repeat
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Connection,
    Date,
    DateTime,
    Table,
    bindparam,
    column,
    insert,
    select,
    table,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

COPY_FROM = 200
CHECK_CHUNK = 5_000  # keys looked up per query (SQLite's bound-parameter limit is 32,766)
EXECUTE_CHUNK = 50_000  # parameter rows handed to the driver at once
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
    if rows:
        insert_columns(
            connection,
            target,
            _columns(rows),
            shared=shared,
            skip_conflicts_on=skip_conflicts_on,
        )


def insert_columns(
    connection: Connection,
    target: Table,
    columns: Mapping[str, Sequence[Any]],
    *,
    shared: Mapping[str, Any] | None = None,
    skip_conflicts_on: Sequence[str] | None = None,
) -> None:
    """:func:`insert_rows` for rows given column by column (``columns``: name to values, all
    of one length): what writes a million rows without a dictionary per row."""
    count = _length(columns)
    if not count:
        return
    values = dict(shared or {})
    if _copies(connection, count):
        names = [*columns, *values]
        _complete(target, names, [c.key for c in target.columns if c.default is not None])
        if skip_conflicts_on is None:
            _copy(connection, target.name, target, columns, values)
            return
        staged = _stage(connection, target, names, columns, values)
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
    shape = ("insert", target, tuple(skip_conflicts_on or ()))
    _executemany(connection, shape, statement_, columns, values)


def insert_new(
    connection: Connection,
    target: Table,
    columns: Mapping[str, Sequence[Any]],
    *,
    key: str,
    shared: Mapping[str, Any] | None = None,
) -> set[Any]:
    """Insert the rows (given as in :func:`insert_columns`) whose ``key``, a unique column, is
    not in ``target`` yet; the keys of the rows inserted (a replay inserts none).

    On PostgreSQL the rows are staged and inserted by one ``INSERT … ON CONFLICT DO
    NOTHING RETURNING``: a row another transaction inserted meanwhile is not counted. On
    SQLite (one writer at a time) the keys already there are read first, by chunks.
    """
    count = _length(columns)
    if not count:
        return set()
    values = dict(shared or {})
    if connection.dialect.name == "postgresql":
        names = [*columns, *values]
        _complete(target, names, [c.key for c in target.columns if c.default is not None])
        if _copies(connection, count):
            staged = _stage(connection, target, names, columns, values)
            source: Any = select(*[staged.c[name] for name in names])
            statement = postgresql.insert(target).from_select(names, source)
        else:
            rows = zip(*columns.values(), strict=True)
            statement = postgresql.insert(target).values(
                [dict(zip(columns, row, strict=True)) | values for row in rows]
            )
        statement = statement.on_conflict_do_nothing(index_elements=[key])
        return set(connection.scalars(statement.returning(target.c[key])))
    keys = list(columns[key])
    seen: set[Any] = set()
    column_, table_ = _quote(connection, key), _quote(connection, target.name)
    for start in range(0, count, CHECK_CHUNK):
        part = tuple(keys[start : start + CHECK_CHUNK])
        # the driver's own statement: SQLAlchemy would compile the expanded IN every time
        marks = ", ".join("?" * len(part))
        found = connection.exec_driver_sql(
            f"SELECT {column_} FROM {table_} WHERE {column_} IN ({marks})", part
        )
        seen.update(value for (value,) in found)
    fresh = [i for i, value in enumerate(keys) if value not in seen]
    if len(fresh) < count:
        columns = {name: [column[i] for i in fresh] for name, column in columns.items()}
    insert_columns(connection, target, columns, shared=values, skip_conflicts_on=[key])
    return set(keys) - seen


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
    columns = _columns(rows)
    changed = [name for name in columns if name != key]
    if _copies(connection, len(rows)):
        names = [key, *changed, *values]
        _complete(target, names, [c.key for c in target.columns if c.onupdate is not None])
        staged = _stage(connection, target, names, columns, values)
        connection.exec_driver_sql(f"ANALYZE {_quote(connection, staged.name)}")
        connection.execute(
            update(target)
            .where(target.c[key] == staged.c[key])
            .values({name: staged.c[name] for name in [*changed, *values]})
        )
        return
    statement = update(target).where(target.c[key] == bindparam("bulk_key"))
    shape = ("update", target, key)
    _executemany(connection, shape, statement, columns, values, renamed={"bulk_key": key})


def _columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Rows (each with the keys of the first) column by column."""
    return {name: [row[name] for row in rows] for name in rows[0]}


def _length(columns: Mapping[str, Sequence[Any]]) -> int:
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    return lengths.pop() if lengths else 0


# -- SQLite, and small batches ---------------------------------------------------------------


def _executemany(
    connection: Connection,
    shape: tuple[Any, ...],
    statement: Any,
    columns: Mapping[str, Sequence[Any]],
    shared: Mapping[str, Any],
    *,
    renamed: Mapping[str, str] | None = None,
) -> None:
    """Driver ``executemany`` calls of the compiled statement, values converted as SQLAlchemy
    would (see the module docstring), a column at a time; ``shape`` names the statement
    for the cache of compiled ones (:func:`_compiled`)."""
    renamed = renamed or {}
    taken = set(renamed.values())
    keys = [name for name in columns if name not in taken]
    sql, positional, names, converters = _compiled(
        connection.dialect, shape, statement, [*keys, *shared]
    )
    missing = [
        name for name in names if name not in shared and renamed.get(name, name) not in columns
    ]
    if missing:
        raise ValueError(f"no values for {', '.join(missing)}")
    count = _length(columns)
    ordered: list[Any] = []
    for name in names:
        convert = converters.get(name)
        if name in shared:
            ordered.append(repeat(_apply(convert, shared[name]), count))
        else:
            values = columns[renamed.get(name, name)]
            ordered.append(map(convert, values) if convert else values)
    rows: Any = zip(*ordered, strict=False)
    if not positional:
        rows = (dict(zip(names, row, strict=True)) for row in rows)
    for part in _batches(rows, EXECUTE_CHUNK):
        connection.exec_driver_sql(sql, part)


Compiled = tuple[str, bool, Sequence[str], dict[str, Converter]]
_COMPILED: dict[tuple[Any, ...], Compiled] = {}  # by dialect, statement shape and columns


def _compiled(
    dialect: Any, shape: tuple[Any, ...], statement: Any, column_keys: list[str]
) -> Compiled:
    """The statement's text, parameter names in order and converters, compiled once per
    shape: a processor batch writes the same few shapes every time, and compiling one costs
    SQLAlchemy more than SQLite's work on a few hundred rows."""
    shape = (dialect.name, dialect.paramstyle, *shape, tuple(column_keys))
    found = _COMPILED.get(shape)
    if found is not None:
        return found
    compiled = statement.compile(dialect=dialect, column_keys=column_keys)
    names: Sequence[str] = (
        compiled.positiontup
        if compiled.positional and compiled.positiontup is not None
        else list(compiled.binds)
    )
    converters = {name: converter(bind.type, dialect) for name, bind in compiled.binds.items()}
    if len(_COMPILED) > 512:  # shapes are few; never let an odd caller grow it without end
        _COMPILED.clear()
    found = _COMPILED[shape] = (compiled.string, bool(compiled.positional), names, converters)
    return found


def _batches(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """``rows`` in lists of ``size`` (the last shorter): a million parameter rows are never
    all held at once."""
    while part := list(islice(rows, size)):
        yield part


def converter(kind: Any, dialect: Any) -> Converter:
    """What turns a value of type ``kind`` into the driver's value, as SQLAlchemy would
    (quicker for JSON, dates and times on SQLite); None when the value goes as it is."""
    if isinstance(kind, JSON) and dialect.name == "sqlite":
        return json_text
    processor: Converter = kind.dialect_impl(dialect).bind_processor(dialect)
    if isinstance(kind, Date) and dialect.name == "sqlite" and processor is not None:
        return _date_text(processor)
    if isinstance(kind, DateTime) and dialect.name == "sqlite" and processor is not None:
        return _moment_text(processor)
    return processor


def _date_text(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLite's text of a date, as SQLAlchemy's ``processor`` writes it (``YYYY-MM-DD``),
    a few times quicker for plain dates (a tier review writes three a customer)."""

    def convert(value: Any) -> Any:
        return value.isoformat() if type(value) is dt.date else processor(value)

    return convert


def _moment_text(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLite's text of a date and time as SQLAlchemy's ``processor`` writes it
    (``YYYY-MM-DD HH:MM:SS.ffffff``, the zone left out), by ``isoformat``: several times
    quicker (a processor batch writes five a message). Used only when both agree."""

    # the last value written and its text: a column often repeats one moment (a batch's
    # receipt time); a tuple replaced whole, so threads sharing the converter never mix them
    last: list[tuple[Any, str]] = [(None, "")]

    def convert(value: Any) -> Any:
        if type(value) is dt.datetime:
            held = last[0]
            if held[0] is value:
                return held[1]
            text = value.isoformat(" ", "microseconds")[:26]  # 26 characters: no zone
            last[0] = (value, text)
            return text
        return processor(value)

    samples = (
        dt.datetime(2024, 2, 29, 23, 59, 58, 1234, tzinfo=dt.UTC),
        dt.datetime(1999, 1, 2, 3, 4, 5),
        dt.datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    )
    return convert if all(convert(s) == processor(s) for s in samples) else processor


def _apply(convert: Converter, value: Any) -> Any:
    return convert(value) if convert else value


def json_text(value: Any) -> str:
    """``value`` as JSON text: orjson's, or the standard library's for what orjson refuses."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


# -- PostgreSQL: COPY ------------------------------------------------------------------------


def _copies(connection: Connection, count: int) -> bool:
    return connection.dialect.name == "postgresql" and count >= COPY_FROM


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
    columns: Mapping[str, Sequence[Any]],
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
    _copy(connection, staged, target, columns, shared)
    return table(staged, *[column(name) for name in names])


def _copy(
    connection: Connection,
    into: str,
    target: Table,
    columns: Mapping[str, Sequence[Any]],
    shared: Mapping[str, Any],
) -> None:
    """Stream the rows into table ``into`` (columns typed as ``target``'s) with ``COPY``.

    Blocks of :data:`COPY_CHUNK` rows are written as COPY's text, formatted a column at a time
    (:func:`_copy_texts`), where psycopg's ``write_row`` costs a few microseconds a row; a
    block holding a value of a type not known there goes row by row through psycopg."""
    names = [*columns, *shared]
    as_json = {name for name in names if isinstance(target.c[name].type, JSON)}
    fixed = tuple(json_text(value) if name in as_json else value for name, value in shared.items())
    fixed_texts = _copy_texts(fixed)
    end = "".join(f"\t{text}" for text in fixed_texts or ()) + "\n"
    quoted = ", ".join(_quote(connection, name) for name in names)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {_quote(connection, into)} ({quoted}) FROM STDIN") as copy:
        for start in range(0, _length(columns), COPY_CHUNK):
            part = [
                [json_text(value) for value in values[start : start + COPY_CHUNK]]
                if name in as_json
                else values[start : start + COPY_CHUNK]
                for name, values in columns.items()
            ]
            texts = [_copy_texts(values) for values in part]
            if fixed_texts is None or any(column is None for column in texts):
                for row in zip(*part, strict=True):
                    copy.write_row((*row, *fixed))
                continue
            copy.write(end.join(map("\t".join, zip(*texts, strict=True))) + end)


COPY_CHUNK = 20_000  # rows formatted and written to COPY at once
COPY_NULL = "\\N"
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_FORMATS: dict[type, Callable[[Any], str]] = {
    str: str,
    int: str,
    float: repr,  # nan and inf are read back as NaN and Infinity
    Decimal: str,
    bool: lambda value: "t" if value else "f",
    dt.date: dt.date.isoformat,
    dt.datetime: dt.datetime.isoformat,  # with its offset, if any
}


def _copy_texts(values: Sequence[Any]) -> list[str] | None:
    """``values`` as fields of COPY's text format (None as ``\\N``; backslash, tab and line
    ends escaped), or None when one is of a type not in :data:`COPY_FORMATS`."""
    kinds = set(map(type, values))
    nulls = type(None) in kinds
    kinds.discard(type(None))
    if not kinds <= COPY_FORMATS.keys():
        return None
    texts: list[Any]
    if kinds == {str}:
        texts = list(values)
    elif len(kinds) == 1:  # each distinct value formatted once (a review's days are few)
        form = COPY_FORMATS[next(iter(kinds))]
        lookup = {value: COPY_NULL if value is None else form(value) for value in set(values)}
        return list(map(lookup.__getitem__, values))
    else:
        texts = [value if value is None else COPY_FORMATS[type(value)](value) for value in values]
    if str in kinds:
        written = "".join(text for text in texts if text is not None) if nulls else "".join(texts)
        if any(mark in written for mark in ("\\", "\t", "\n", "\r")):
            texts = [text if text is None else text.translate(COPY_ESCAPES) for text in texts]
    if nulls:
        texts = [COPY_NULL if text is None else text for text in texts]
    return texts


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
            name: converter(bind.type, dialect) for name, bind in compiled.binds.items()
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
