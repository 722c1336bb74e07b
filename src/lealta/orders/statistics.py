"""Cleaning rules a Parquet file's own statistics show that no row breaks.

A Parquet file keeps, per row group and column, the number of nulls and the least and greatest
value. When those show that no row can break a cleaning rule (no customer id is missing, no
order id begins with a cancellation's first character, no amount is missing or below zero…),
the rule need not be tested on every row: its count is 0 either way, and every row keeps the
reason it would have had. On ten million orders that break no rule, the scan then carries no
per-row reason at all. Only what the statistics prove is used: a row group without them, a
column of another type or a rule that depends on parsing text keeps its test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lealta.engines import Engine
from lealta.orders.columns import ColumnMap
from lealta.orders.sources import Source
from lealta.segmentation.options import RFMOptions

# The first character of a customer id no rule treats as missing: printable ASCII from "!".
_FIRST_PRINTABLE, _PAST_ASCII = "!", "\x80"


@dataclass(frozen=True)
class ColumnStats:
    """One column over the whole file: nulls, and each row group's least and greatest value
    (``None`` where a row group has none)."""

    nulls: int | None
    ranges: tuple[tuple[str | None, str | None], ...]

    def bounded(self) -> bool:
        """Every row group gives its least and greatest value."""
        return bool(self.ranges) and all(
            low is not None and high is not None for low, high in self.ranges
        )


def rules_never_broken(
    engine: Engine, source: Source, cols: ColumnMap, options: RFMOptions
) -> frozenset[str]:
    """Reasons (see :data:`lealta.orders.cleaning.REASONS`) no row of ``source`` can have,
    by its Parquet statistics; empty for other inputs and engines."""
    if engine.name != "duckdb" or source.kind != "parquet" or source.path is None:
        return frozenset()
    stats = _statistics(engine, str(source.path))
    types = {name: source.table[name].type() for name in source.columns}
    never: set[str] = set()
    if _customer_always_given(stats.get(cols.customer), types[cols.customer]):
        never.add("missing_customer")
    date = stats.get(cols.date)
    # a date or timestamp column is cast, never parsed: only a null is a bad date
    if date is not None and date.nulls == 0 and _cast_not_parsed(types[cols.date]):
        never.add("bad_date")
    if cols.order and options.cancel_pattern:
        never.update(_never_cancelled(stats.get(cols.order), types[cols.order], options))
    if cols.amount:
        never.update(_amount_rules(stats.get(cols.amount), types[cols.amount]))
    return frozenset(never)


def _statistics(engine: Engine, path: str) -> dict[str, ColumnStats]:
    """Per top-level column: nulls over the file and each row group's value range."""
    rows = engine.con.con.execute(
        "SELECT path_in_schema, stats_null_count, stats_min_value, stats_max_value "
        "FROM parquet_metadata(?) ORDER BY row_group_id",
        [path],
    ).fetchall()
    nulls: dict[str, int | None] = {}
    ranges: dict[str, list[tuple[str | None, str | None]]] = {}
    for column, null_count, low, high in rows:
        known = nulls.get(column, 0)
        nulls[column] = None if known is None or null_count is None else known + null_count
        ranges.setdefault(column, []).append((low, high))
    return {c: ColumnStats(nulls[c], tuple(ranges[c])) for c in nulls}


def _cast_not_parsed(dtype: Any) -> bool:
    return bool(dtype.is_timestamp() or dtype.is_date())


def _customer_always_given(stats: ColumnStats | None, dtype: Any) -> bool:
    """No customer id is null, and none is empty or only spaces once trimmed."""
    if stats is None or stats.nulls != 0:
        return False
    return bool(dtype.is_integer() or (dtype.is_string() and _first_characters_within(stats)))


def _first_characters_within(stats: ColumnStats) -> bool:
    """Every value begins with a printable ASCII character other than a space, so none is
    empty or only spaces once trimmed (the least value is at least "!", the greatest below
    the first character beyond ASCII)."""
    return stats.bounded() and all(
        low >= _FIRST_PRINTABLE and high < _PAST_ASCII  # type: ignore[operator]
        for low, high in stats.ranges
    )


def _never_cancelled(stats: ColumnStats | None, dtype: Any, options: RFMOptions) -> set[str]:
    """{"cancelled"} when no order id begins with a character a cancellation begins with."""
    from lealta.orders.cleaning import leading_characters

    first = leading_characters(options.cancel_pattern)
    if stats is None or first is None or not dtype.is_string() or not stats.bounded():
        return set()
    for low, high in stats.ranges:
        for char in first:
            after = chr(ord(char) + 1)
            if not (high < char or low >= after):  # type: ignore[operator]
                return set()
    return {"cancelled"}


def _amount_rules(stats: ColumnStats | None, dtype: Any) -> set[str]:
    """The amount rules a numeric amount column cannot break (none missing; all above 0)."""
    if stats is None or not dtype.is_numeric() or stats.nulls != 0:
        return set()
    never = {"bad_amount"}
    try:
        if stats.bounded() and all(float(low) > 0 for low, _ in stats.ranges):  # type: ignore[arg-type]
            never.add("non_positive_amount")
    except ValueError:  # a minimum that does not read as a number proves nothing
        pass
    return never
