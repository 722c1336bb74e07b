"""Writing a synthetic shop's orders to a file: .csv, .csv.gz, .parquet, .xlsx or .jsonl.

Orders are streamed batch by batch into ``<name>.part``, which is renamed to the target only
once complete, so a failed or interrupted run never leaves a half-written file behind. With
``lines=True`` the file has one row per order line instead (product id and name, category,
quantity, price and the line's amount, the order's columns repeated): see
:meth:`lealta.demo.orders.DemoShop.line_batches`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

from lealta.demo.catalogue import SCHEMA
from lealta.demo.orders import LINE_SCHEMA, DemoShop
from lealta.demo.plan import plan_shop
from lealta.errors import InvalidInput

FORMATS = (".csv", ".csv.gz", ".parquet", ".xlsx", ".jsonl")
XLSX_MAX_ROWS = 1_048_575  # an Excel sheet's rows, less the header


def check_target(path: Path, orders: int | None = None) -> str:
    """The format :func:`write_orders` would write ``orders`` orders to ``path`` in.

    Returns
    -------
    str
        One of :data:`FORMATS`.

    Raises
    ------
    InvalidInput
        The extension is none of :data:`FORMATS`, the directory does not exist, or ``orders``
        exceed the rows of an Excel sheet.
    """
    name = path.name.lower()
    suffix = next((s for s in sorted(FORMATS, key=len, reverse=True) if name.endswith(s)), None)
    if suffix is None:  # .csv.gz was tried before .csv
        raise InvalidInput(
            f"{path.name}: unknown file type; use one of {', '.join(FORMATS)}", field="path"
        )
    if suffix == ".xlsx" and orders is not None and orders > XLSX_MAX_ROWS:
        raise InvalidInput(
            f"{orders:,} orders do not fit in an Excel sheet (at most {XLSX_MAX_ROWS:,} rows); "
            "write .csv or .parquet instead",
            field="path",
        )
    if not path.parent.is_dir():
        raise InvalidInput(f"directory {path.parent} does not exist", field="path")
    return suffix


Writer = Callable[[Path, Any, Iterator[Any]], None]


def _write_csv(path: Path, schema: Any, batches: Iterator[Any], gzip: bool = False) -> None:
    import gzip as gz

    import pyarrow.csv as pacsv  # type: ignore[import-untyped, unused-ignore]

    with path.open("wb") as raw:
        # level 3 halves the time of the usual 6 for a sixth more bytes; mtime 0 and no file
        # name in the header keep the same seed's file byte for byte the same
        sink = gz.GzipFile("", "wb", compresslevel=3, fileobj=raw, mtime=0) if gzip else raw
        with sink, pacsv.CSVWriter(sink, schema) as writer:
            for batch in batches:
                writer.write_batch(batch)


def _write_parquet(path: Path, schema: Any, batches: Iterator[Any]) -> None:
    import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)


def _write_jsonl(path: Path, schema: Any, batches: Iterator[Any]) -> None:
    import duckdb

    # DuckDB writes JSON lines far faster than pandas, with dates as in the CSV; with more than
    # one thread it buffers the whole stream to keep the row order
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false; SET threads = 1")
        con.register("orders", pa.RecordBatchReader.from_batches(schema, batches))
        target = str(path).replace("'", "''")
        try:
            con.execute(f"COPY orders TO '{target}' (FORMAT json)")
        except duckdb.IOException as exc:  # callers expect OSError for file trouble
            raise OSError(str(exc)) from exc


def _write_xlsx(path: Path, schema: Any, batches: Iterator[Any]) -> None:
    from openpyxl import Workbook

    # gathered first (at most a sheet's rows), so that order lines beyond a sheet, which the
    # check on the orders could not foresee, are refused before anything is written
    taken, rows = [], 0
    for batch in batches:
        rows += batch.num_rows
        if rows > XLSX_MAX_ROWS:
            raise InvalidInput(
                f"more than {XLSX_MAX_ROWS:,} rows do not fit in an Excel sheet; "
                "write .csv or .parquet instead",
                field="path",
            )
        taken.append(batch)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("orders")
    sheet.append(schema.names)
    for batch in taken:
        for row in zip(*(column.to_pylist() for column in batch.columns), strict=True):
            sheet.append(row)
    book.save(path)


_WRITERS: dict[str, Writer] = {
    ".csv": _write_csv,
    ".csv.gz": partial(_write_csv, gzip=True),
    ".parquet": _write_parquet,
    ".jsonl": _write_jsonl,
    ".xlsx": _write_xlsx,
}


def write_orders(
    path: Path,
    *,
    customers: int | None = None,
    orders: int | None = None,
    seed: int = 7,
    start: date = date(2024, 1, 1),
    end: date = date(2025, 12, 31),
    progress: Callable[[int], None] | None = None,
    lines: bool = False,
) -> int:
    """Write a synthetic shop's orders to ``path``, streaming them batch by batch.

    Parameters
    ----------
    path
        Target file; its extension picks the format: .csv, .csv.gz, .parquet, .xlsx or .jsonl.
        Dates are written as ``YYYY-MM-DD HH:MM:SS`` and ``YYYY-MM-DD``.
    customers, orders, seed, start, end
        As for :func:`lealta.demo.shop.generate_orders`.
    progress
        Called after each written batch with the number of orders it held.
    lines
        One row per order line (see the module's note) instead of one per order.

    Returns
    -------
    int
        Number of orders written.

    Raises
    ------
    InvalidInput
        Unknown extension, missing directory, more rows than an Excel sheet holds, or invalid
        sizes or dates as for :func:`lealta.demo.shop.generate_orders`.
    """
    check_target(path)  # fail before planning a large shop
    shop = plan_shop(customers=customers, orders=orders, seed=seed, start=start, end=end)
    return write_shop(path, shop, progress=progress, lines=lines)


def write_shop(
    path: Path,
    shop: DemoShop,
    *,
    progress: Callable[[int], None] | None = None,
    lines: bool = False,
) -> int:
    """Write the orders (or, with ``lines``, the order lines) of a planned shop; see
    :func:`write_orders`.

    Returns
    -------
    int
        Number of orders written.
    """
    suffix = check_target(path, shop.orders)
    part = path.with_name(path.name + ".part")  # never leave a half-written file at path
    try:
        tell = progress or (lambda rows: None)
        schema = LINE_SCHEMA if lines else SCHEMA
        pairs = shop.line_batches() if lines else ((b.num_rows, b) for b in shop.batches())
        _WRITERS[suffix](part, schema, _told(pairs, tell))
        part.replace(path)
    finally:
        part.unlink(missing_ok=True)
    return shop.orders


def _told(pairs: Iterator[tuple[int, Any]], progress: Callable[[int], None]) -> Iterator[Any]:
    """The batches of ``(orders, batch)`` pairs, telling ``progress`` the orders of each once
    the writer has taken the batch and asks for the next."""
    for orders, batch in pairs:
        yield batch
        progress(orders)
