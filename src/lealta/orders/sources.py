"""Open order data (files or in-memory tables) as an ibis table on an engine.

Files are read with every column as text, so that a bad value becomes a reported reject in
cleaning instead of failing the whole read. CSV rows that cannot be parsed at all (too many
columns, broken quotes) are collected by DuckDB's ``store_rejects`` and reported with their line.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lealta.engines import Engine
from lealta.errors import UnreadableFile

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")
SUFFIXES = (*CSV_SUFFIXES, ".parquet", ".pq", ".xlsx", ".jsonl", ".ndjson", ".json")


@dataclass(frozen=True)
class MalformedRow:
    """A CSV line the reader could not split into the header's columns."""

    line: int
    reason: str
    text: str


@dataclass
class Source:
    """Order data opened on an engine.

    ``first_line`` is the line (CSV, Excel) or 1-based row (other inputs) of the first data
    row, so that row ``i`` (0-based, in input order) is at ``first_line + i``.
    """

    table: Any
    columns: list[str]
    kind: str
    name: str
    first_line: int = 2
    textual: bool = True
    malformed: list[MalformedRow] = field(default_factory=list)
    path: Path | None = None
    encoding: str = "utf-8"

    def line_mapper(self) -> Any:
        """A vectorisable ``index → line`` function that accounts for malformed lines."""
        bad = sorted(m.line for m in self.malformed)
        first = self.first_line

        def to_line(index: int) -> int:
            # Each malformed line at or before the candidate shifts it by one.
            line = first + index
            shift = 0
            while True:
                moved = bisect.bisect_right(bad, line + shift)
                if moved == shift:
                    return line + shift
                shift = moved

        return to_line


def suffix_of(path: Path) -> str:
    """The lower-cased suffix that decides the format (``.csv.gz`` counts as one)."""
    name = path.name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def open_source(engine: Engine, data: Any, *, encoding: str = "utf-8") -> Source:
    """Open ``data`` (a path, pandas/Polars DataFrame, Arrow table or ibis table) on ``engine``."""
    if isinstance(data, (str, Path)):
        return open_file(engine, Path(data), encoding=encoding)
    return _open_frame(engine, data)


def open_file(engine: Engine, path: Path, *, encoding: str = "utf-8") -> Source:
    """Open an order file by its extension."""
    if not path.exists():
        raise UnreadableFile(f"{path}: no such file", field="file")
    if path.is_dir() or path.stat().st_size == 0:
        raise UnreadableFile(f"{path}: the file is empty", field="file")
    suffix = suffix_of(path)
    if suffix in CSV_SUFFIXES:
        return _open_csv(engine, path, encoding)
    if suffix in (".parquet", ".pq"):
        table = _guard(path, lambda: engine.con.read_parquet(str(path)))
        return Source(table, list(table.columns), "parquet", str(path), 1, False, path=path)
    if suffix == ".xlsx":
        return _open_excel(engine, path)
    if suffix in (".jsonl", ".ndjson", ".json"):
        table = _guard(path, lambda: engine.con.read_json(str(path)))
        return Source(table, list(table.columns), "json", str(path), 1, textual=False)
    raise UnreadableFile(
        f"{path}: unknown file type {suffix or '(none)'}; supported: {', '.join(SUFFIXES)}",
        field="file",
    )


def _open_csv(engine: Engine, path: Path, encoding: str) -> Source:
    if engine.name == "spark":
        table = _guard(path, lambda: engine.con.read_csv(str(path), header=True))
        return Source(table, list(table.columns), "csv", str(path), path=path)
    delimiter = "\t" if ".tsv" in path.name.lower() else None
    options: dict[str, Any] = {"all_varchar": True, "header": True, "store_rejects": True}
    if delimiter:
        options["delim"] = delimiter
    if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        options["encoding"] = encoding
    table = _guard(path, lambda: engine.con.read_csv(str(path), **options))
    return Source(table, list(table.columns), "csv", str(path), path=path, encoding=encoding)


def collect_malformed(engine: Engine, source: Source) -> None:
    """Fetch the CSV lines DuckDB set aside while scanning ``source`` (after a scan ran)."""
    if engine.name != "duckdb" or source.kind != "csv":
        return
    rows = engine.con.raw_sql(
        "SELECT line, error_type, csv_line, error_message FROM reject_errors ORDER BY line"
    ).fetchall()
    for line, kind, text, message in rows:
        if str(kind).upper() in ("INVALID UNICODE", "INVALID ENCODING"):
            raise UnreadableFile(
                f"{source.name}: line {line} is not valid UTF-8; "
                "pass the file's encoding, e.g. --encoding latin-1",
                field="encoding",
                line=int(line),
            )
        reason = f"malformed row: {str(kind).lower()} ({message.splitlines()[0]})"
        source.malformed.append(MalformedRow(int(line), reason, str(text)))


def _open_excel(engine: Engine, path: Path) -> Source:
    import pyarrow as pa
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a bad file
        raise UnreadableFile(
            f"{path}: not a readable .xlsx workbook ({exc})", field="file"
        ) from exc
    rows = book.worksheets[0].iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise UnreadableFile(f"{path}: the first sheet is empty", field="file")
    names = [str(h) if h is not None else f"column_{i + 1}" for i, h in enumerate(header)]
    columns: list[list[str | None]] = [[] for _ in names]
    for row in rows:
        for i in range(len(names)):
            value = row[i] if i < len(row) else None
            columns[i].append(None if value is None else _cell_text(value))
    book.close()
    arrow = pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, columns, strict=True)})
    return Source(_register(engine, arrow), names, "xlsx", str(path))


def _cell_text(value: Any) -> str:
    import datetime as dt

    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _open_frame(engine: Engine, data: Any) -> Source:
    import ibis
    import pyarrow as pa

    if isinstance(data, ibis.expr.types.Table):
        return Source(data, list(data.columns), "table", "ibis table", 1, textual=False)
    if isinstance(data, pa.Table):
        arrow = data
    elif hasattr(data, "to_arrow"):  # Polars
        arrow = data.to_arrow()
    elif hasattr(data, "columns") and hasattr(data, "dtypes"):  # pandas
        arrow = pa.Table.from_pandas(data, preserve_index=False)
    else:
        raise UnreadableFile(
            f"cannot read orders from a {type(data).__name__}: pass a file path, a pandas or "
            "Polars DataFrame, an Arrow table or an ibis table",
            field="data",
        )
    name = type(data).__name__
    return Source(_register(engine, arrow), arrow.column_names, "frame", name, 1, textual=False)


def _register(engine: Engine, arrow: Any) -> Any:
    import ibis

    if engine.name == "duckdb":
        return ibis.memtable(arrow)
    return engine.con.create_table(f"lealta_input_{id(arrow)}", arrow.to_pandas(), overwrite=True)


def _guard(path: Path, read: Any) -> Any:
    try:
        return read()
    except Exception as exc:
        text = str(exc)
        if "unicode" in text.lower() or "utf-8" in text.lower():
            raise UnreadableFile(
                f"{path}: not valid UTF-8; pass the file's encoding, e.g. --encoding latin-1",
                field="encoding",
            ) from exc
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        raise UnreadableFile(f"{path}: cannot be read ({first})", field="file") from exc
