"""Order lines in the canonical shape the affinity figures read, from a file or a frame.

The order-file column detection and cleaning of ``lealta rfm`` are reused as they are
(cancellations, returns, unreadable dates … are left out and counted); affinity adds the item
column: a product id (``StockCode``, ``product_id``, ``sku`` …) or a category, detected by name
or given. Lines without an item are left out and counted too.

The *lines* table has ``customer_id``, ``basket`` (the order id, or the line's calendar day
when the input has no order id), ``ts``, ``item``, ``quantity`` and ``amount``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import ibis

from lealta.affinity.options import AffinityOptions
from lealta.engines import Engine
from lealta.errors import InvalidInput, MissingColumn
from lealta.orders.cleaning import (
    REASON_CODES,
    REASON_NAMES,
    REASONS,
    clean,
    detect_date_format,
    trim,
    window_start,
)
from lealta.orders.columns import detect_columns, normalise
from lealta.orders.sources import open_source
from lealta.segmentation.options import RFMOptions

ITEM_NAMES: dict[str, tuple[str, ...]] = {
    "product": (
        "productid",
        "stockcode",
        "sku",
        "product",
        "productcode",
        "itemid",
        "articleid",
        "article",
        "item",
    ),
    "category": (
        "category",
        "productcategory",
        "categoryname",
        "department",
        "productline",
        "family",
    ),
}
LABEL_NAMES = ("description", "productname", "itemname", "name")
MISSING_ITEM = "missing_item"
MISSING_ITEM_CODE = -1


@dataclass
class Lines:
    """The cleaned lines of an input (an ibis table on ``engine``) and how they were read."""

    engine: Engine
    table: Any
    as_of: dt.date
    item_column: str
    label_column: str | None
    rows_read: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def rows_kept(self) -> int:
        """Lines that count."""
        return self.rows_read - sum(self.rejected.values())


def detect_item(available: list[str], by: str, given: str | None) -> str:
    """The column holding the ``by`` (``product`` or ``category``) of each line."""
    if given:
        if given not in available:
            raise MissingColumn(f"column {given!r} (given for {by}) is not in the file", field=by)
        return given
    by_norm = {normalise(col): col for col in reversed(available)}
    found = next((by_norm[c] for c in ITEM_NAMES[by] if c in by_norm), None)
    if found is None:
        raise MissingColumn(
            f"no {by} column found among {', '.join(repr(c) for c in available)}; "
            f"name it with --item (or pair by the other kind with --by)",
            field=by,
        )
    return found


def read_lines(
    engine: Engine,
    data: Any,
    options: AffinityOptions,
    *,
    columns: dict[str, str | None] | None = None,
    item: str | None = None,
    cancel_pattern: str = r"^[Cc][0-9]",
    date_format: str | None = None,
    encoding: str = "utf-8",
) -> Lines:
    """Open ``data`` (a path or a frame) and clean it into the *lines* table, materialised.

    Lines on or after ``options.as_of`` (default: the day after the last usable line) and
    before the window are left out, as in ``lealta rfm``.
    """
    source = open_source(engine, data, encoding=encoding)
    cols = detect_columns(source.columns, columns).columns
    item_col = detect_item(source.columns, options.by, item)
    label = _label(source.columns, item_col) if options.by == "product" else None
    fmt = date_format or detect_date_format(engine, source, cols.date)[0]
    rfm = RFMOptions(
        as_of=options.as_of, window_days=options.window_days, cancel_pattern=cancel_pattern
    )
    keep = {"_item": item_col, **({"_label": label} if label else {})}
    # One pass over the input: cleaned once without the period's rules, kept in the engine;
    # the period (which needs the last date) is then applied to that copy, not to the file.
    rows = clean(engine, source, cols, rfm, date_format=fmt, as_of=None, keep=keep)
    rows = engine.materialize(rows.mutate(_item=trim(rows._item.cast("string"))))
    as_of = options.as_of or _default_as_of(engine, rows)
    rows = rows.mutate(reason=_period_and_item_reason(rows, rfm, as_of))
    rows_read, rejected = _counts(engine, rows)
    kept = rows.filter(rows.reason.isnull())
    day = kept.ts.date().cast("string")
    basket = kept.order_id.fill_null(day) if cols.order else day
    table = kept.select(
        "customer_id",
        basket=basket,
        ts=kept.ts,
        item=kept._item,
        quantity=kept.quantity,
        amount=kept.amount,
        **({"label": kept._label.cast("string")} if label else {}),
    )
    notes = [] if cols.order else ["no order id column: a customer's lines of one day are a basket"]
    return Lines(engine, table, as_of, item_col, label, rows_read, rejected, notes)


def _default_as_of(engine: Engine, rows: Any) -> dt.date:
    """The day after the last usable line."""
    last = engine.scalar(rows.filter(rows.reason.isnull()).ts.max())
    if last is None:
        raise InvalidInput("no usable order line to date the analysis from", field="file")
    return _to_date(last) + dt.timedelta(days=1)


def _period_and_item_reason(rows: Any, rfm: RFMOptions, as_of: dt.date) -> Any:
    """The cleaning reason, then (in this order) after the as-of date, before the window and
    no item, for lines that had none."""
    start = window_start(rfm, as_of)
    rules = [(rows.ts >= _midnight(as_of), REASON_CODES["after_as_of"])]
    if start is not None:
        rules.append((rows.ts < _midnight(start), REASON_CODES["before_window"]))
    rules.append((rows._item.isnull() | (rows._item == ""), MISSING_ITEM_CODE))
    reason = rows.reason
    for condition, code in reversed(rules):
        reason = ibis.ifelse(condition, ibis.literal(code, "int8"), reason)
    return ibis.ifelse(rows.reason.isnull(), reason, rows.reason)


def _midnight(day: dt.date) -> Any:
    return ibis.timestamp(dt.datetime.combine(day, dt.time()))


def _label(available: list[str], item_col: str) -> str | None:
    by_norm = {normalise(col): col for col in reversed(available)}
    return next((by_norm[c] for c in LABEL_NAMES if c in by_norm and by_norm[c] != item_col), None)


def _counts(engine: Engine, rows: Any) -> tuple[int, dict[str, int]]:
    counts = engine.rows(rows.group_by("reason").aggregate(n=ibis._.count()))
    names = {**REASON_NAMES, MISSING_ITEM_CODE: MISSING_ITEM}
    rejected = {names[int(c["reason"])]: int(c["n"]) for c in counts if c["reason"] is not None}
    order = [*REASONS, MISSING_ITEM]
    return sum(int(c["n"]) for c in counts), {r: rejected[r] for r in order if r in rejected}


def _to_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def labels(lines: Any) -> Any:
    """One ``label`` per ``item``: the one of its latest line with a label (names change; the
    figures stay keyed by item), when the lines carry labels."""
    named = lines.filter(lines.label.notnull() & (lines.label != ""))
    return named.group_by("item").aggregate(label=named.label.argmax(named.ts))


def item_names(lines: Lines) -> dict[str, str]:
    """Each item's label (its product name), or nothing when the lines carry no label."""
    if not lines.label_column:
        return {}
    found = lines.engine.rows(labels(lines.table))
    return {str(row["item"]): str(row["label"]) for row in found}
