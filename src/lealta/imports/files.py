"""Reading import files in chunks: CSV (optionally gzipped), Parquet and JSON lines.

Files are streamed: a chunk of rows at a time, never the whole file. Every row carries its
line (CSV: the header is line 1; JSON lines: the first record is line 1; Parquet: the 1-based
row number). A CSV line with the wrong number of fields, or a JSON line that is not an object,
comes out as a row with a ``problem`` so that it is reported, not lost.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import orjson

from lealta.errors import UnreadableFile

Format = Literal["csv", "parquet", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "parquet", "jsonl")
_SUFFIXES: dict[str, Format] = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
}  # fmt: skip
CHUNK_ROWS = 5_000


@dataclass
class Row:
    """One input row: its line, its cells by column, and what made it unreadable, if anything."""

    line: int
    values: dict[str, Any]
    problem: str | None = None


@dataclass
class ImportFile:
    """An open import file: its columns and a way to read it in chunks with progress."""

    path: Path
    format: Format
    columns: list[str]
    total: int  # bytes (CSV, JSON lines) or rows (Parquet), for progress
    fixed_columns: bool = True
    _chunks: Iterator[list[Row]] | None = None
    _position: Any = None
    _close: list[Any] = field(default_factory=list)

    def chunks(self) -> Iterator[list[Row]]:
        """The rows, ``CHUNK_ROWS`` at a time."""
        assert self._chunks is not None
        return self._chunks

    def position(self) -> int:
        """How far reading got, in the unit of :attr:`total`."""
        return int(self._position())

    def close(self) -> None:
        """Release the file."""
        for close in self._close:
            close()


def detect_format(path: Path, forced: str | None = None) -> Format:
    """The format named by ``forced``, else by the extension (``.gz`` is looked through)."""
    if forced:
        if forced not in FORMATS:
            raise UnreadableFile(
                f"unknown format {forced!r}; use one of {', '.join(FORMATS)}", field="format"
            )
        return forced
    name = path.name.lower().removesuffix(".gz")
    for suffix, kind in _SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    raise UnreadableFile(
        f"{path}: cannot tell the format from the extension; use .csv, .csv.gz, .parquet or "
        ".jsonl, or pass --format csv|parquet|jsonl",
        field="format",
    )


@contextlib.contextmanager
def open_import(
    path: Path, *, forced: str | None = None, encoding: str = "utf-8", chunk: int = CHUNK_ROWS
) -> Iterator[ImportFile]:
    """Open ``path`` for reading in chunks.

    Raises
    ------
    UnreadableFile
        The file is missing, empty, of an unknown format, or not readable as that format.
    """
    if not path.exists():
        raise UnreadableFile(f"{path}: no such file", field="file")
    if path.is_dir() or path.stat().st_size == 0:
        raise UnreadableFile(f"{path}: the file is empty", field="file")
    kind = detect_format(path, forced)
    opener = {"csv": _open_csv, "parquet": _open_parquet, "jsonl": _open_jsonl}[kind]
    opened = opener(path, encoding, chunk)
    try:
        yield opened
    finally:
        opened.close()


def _binary(path: Path) -> tuple[IO[bytes], Any]:
    """The raw file (for progress) and the stream to decode (gunzipped if needed)."""
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return raw, gzip.GzipFile(fileobj=raw, mode="rb")
    return raw, raw


def _open_csv(path: Path, encoding: str, chunk: int) -> ImportFile:
    raw, stream = _binary(path)
    handle = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        head = handle.readline()
    except (UnicodeDecodeError, OSError, EOFError, zlib.error) as exc:
        raw.close()
        raise UnreadableFile(f"{path}: cannot be read ({exc})", field="file") from exc
    delimiter = _delimiter(path, head)
    header = next(csv.reader([head], delimiter=delimiter), [])
    header = [h.strip().lstrip("\ufeff") for h in header]
    if not any(header):
        raw.close()
        raise UnreadableFile(f"{path}: the first line (the header) is empty", field="file")
    reader = csv.reader(handle, delimiter=delimiter)
    opened = ImportFile(path, "csv", header, path.stat().st_size)
    opened._position = raw.tell
    opened._close = [handle.close, raw.close]
    opened._chunks = _csv_chunks(path, reader, header, chunk)
    return opened


def _delimiter(path: Path, head: str) -> str:
    if ".tsv" in path.name.lower():
        return "\t"
    counts = {d: head.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _csv_chunks(path: Path, reader: Any, header: list[str], size: int) -> Iterator[list[Row]]:
    rows: list[Row] = []
    consumed = 1  # physical lines read so far (the header)
    try:
        for record in reader:
            line = consumed + 1
            consumed = reader.line_num + 1
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            rows.append(_csv_row(line, record, header))
            if len(rows) >= size:
                yield rows
                rows = []
    except (UnicodeDecodeError, OSError, EOFError, zlib.error, csv.Error) as exc:
        raise UnreadableFile(
            f"{path}: cannot be read after line {consumed} ({exc})", field="file", line=consumed + 1
        ) from exc
    if rows:
        yield rows


def _csv_row(line: int, record: list[str], header: list[str]) -> Row:
    values = dict(zip(header, record, strict=False))
    if len(record) != len(header):
        problem = f"malformed row: {len(record)} fields where the header has {len(header)}"
        return Row(line, values, problem)
    return Row(line, values)


def _open_parquet(path: Path, encoding: str, chunk: int) -> ImportFile:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(str(path))
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise UnreadableFile(f"{path}: not a readable Parquet file ({exc})", field="file") from exc
    done = [0]

    def chunks() -> Iterator[list[Row]]:
        for batch in parquet.iter_batches(batch_size=chunk):
            records = batch.to_pylist()
            start = done[0]
            done[0] += len(records)
            yield [Row(start + i + 1, record) for i, record in enumerate(records)]

    opened = ImportFile(
        path, "parquet", list(parquet.schema_arrow.names), parquet.metadata.num_rows
    )
    opened._chunks = chunks()
    opened._position = lambda: done[0]
    opened._close = [parquet.close] if hasattr(parquet, "close") else []
    return opened


def _open_jsonl(path: Path, encoding: str, chunk: int) -> ImportFile:
    raw, stream = _binary(path)
    handle = io.TextIOWrapper(stream, encoding=encoding)
    chunks = _jsonl_chunks(path, handle, chunk)
    try:
        first = next(chunks, [])
    except UnreadableFile:
        raw.close()
        raise
    columns: dict[str, None] = {}
    for row in first:
        if row.problem is None:
            columns.update(dict.fromkeys(row.values))

    def all_chunks() -> Iterator[list[Row]]:
        if first:
            yield first
        yield from chunks

    opened = ImportFile(path, "jsonl", list(columns), path.stat().st_size, fixed_columns=False)
    opened._chunks = all_chunks()
    opened._position = raw.tell
    opened._close = [handle.close, raw.close]
    return opened


def _jsonl_chunks(path: Path, handle: IO[str], size: int) -> Iterator[list[Row]]:
    rows: list[Row] = []
    line = 0
    try:
        for line, text in enumerate(handle, 1):
            if not text.strip():
                continue
            rows.append(_json_row(line, text))
            if len(rows) >= size:
                yield rows
                rows = []
    except (UnicodeDecodeError, OSError, EOFError, zlib.error) as exc:
        raise UnreadableFile(
            f"{path}: cannot be read after line {line} ({exc})", field="file", line=line + 1
        ) from exc
    if rows:
        yield rows


def _json_row(line: int, text: str) -> Row:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return Row(line, {"raw": text.rstrip("\n")}, f"not valid JSON ({exc})")
    if not isinstance(value, dict):
        return Row(line, {"raw": text.rstrip("\n")}, "not a JSON object")
    return Row(line, value)
