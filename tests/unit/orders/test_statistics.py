"""Cleaning rules a Parquet file's statistics show no row breaks are not tested row by row;
the rules they cannot vouch for still are, and the results never change."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lealta
from lealta.engines import connect
from lealta.orders.columns import detect_columns
from lealta.orders.sources import open_source
from lealta.orders.statistics import rules_never_broken
from lealta.segmentation.options import RFMOptions

EVERY_RULE = {"missing_customer", "bad_date", "cancelled", "bad_amount", "non_positive_amount"}


def write(path: Path, groups: list[dict[str, list[object]]]) -> Path:
    """One row group per dict (order_id, customer_id, order_date, amount)."""
    schema = pa.schema(
        [
            ("order_id", pa.string()),
            ("customer_id", pa.string()),
            ("order_date", pa.timestamp("us")),
            ("amount", pa.float64()),
        ]
    )
    with pq.ParquetWriter(path, schema) as writer:
        for group in groups:
            writer.write_table(pa.table(group, schema=schema))
    return path


def group(
    orders: list[str], customers: list[str | None], amounts: list[float | None]
) -> dict[str, list[Any]]:
    start = dt.datetime(2024, 1, 1, 10)
    dates = [start + dt.timedelta(days=i) for i in range(len(orders))]
    return {"order_id": orders, "customer_id": customers, "order_date": dates, "amount": amounts}


def never(path: Path, options: RFMOptions | None = None) -> frozenset[str]:
    engine = connect("duckdb")
    source = open_source(engine, path)
    columns = detect_columns(source.columns, None, ()).columns
    return rules_never_broken(engine, source, columns, options or RFMOptions())


CLEAN = group(["SO-1", "SO-2", "SO-3"], ["A1", "B2", "A1"], [10.0, 20.0, 5.5])


def test_a_file_whose_statistics_rule_out_every_break_skips_every_rule(tmp_path: Path) -> None:
    path = write(tmp_path / "o.parquet", [CLEAN, group(["Z9"], ["Q"], [1.0])])
    assert never(path) == EVERY_RULE


@pytest.mark.parametrize(
    ("broken", "kept"),
    [
        (group(["SO-4"], [None], [1.0]), "missing_customer"),
        (group(["SO-4"], [" A1"], [1.0]), "missing_customer"),  # a leading space: maybe blank
        (group(["SO-4"], ["é1"], [1.0]), "missing_customer"),  # beyond ASCII: maybe a space
        (group(["C4"], ["A1"], [1.0]), "cancelled"),
        (group(["B1", "D1"], ["A1", "A1"], [1.0, 1.0]), "cancelled"),  # C1 could lie between
        (group(["c9"], ["A1"], [1.0]), "cancelled"),
        (group(["SO-4"], ["A1"], [None]), "bad_amount"),
        (group(["SO-4"], ["A1"], [0.0]), "non_positive_amount"),
        (group(["SO-4"], ["A1"], [-3.0]), "non_positive_amount"),
    ],
)
def test_a_rule_some_row_group_may_break_is_kept(
    tmp_path: Path, broken: dict[str, list[Any]], kept: str
) -> None:
    path = write(tmp_path / "o.parquet", [CLEAN, broken])
    assert kept not in never(path)


def test_without_a_cancellation_pattern_or_outside_parquet_nothing_is_read(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "o.parquet", [CLEAN])
    assert "cancelled" not in never(path, RFMOptions(cancel_pattern="^(C|X)"))
    csv = tmp_path / "o.csv"
    pd.read_parquet(path).to_csv(csv, index=False)
    assert never(csv) == frozenset()


@pytest.mark.parametrize("purchase", ["order", "day", "row"])
def test_customers_and_report_are_those_of_the_same_rows_in_csv(
    tmp_path: Path, purchase: str
) -> None:
    clean = write(tmp_path / "clean.parquet", [CLEAN, group(["SO-9", "SO-9"], ["Q", "Q"], [1, 2])])
    broken = write(
        tmp_path / "broken.parquet",
        [CLEAN, group(["C4", "SO-5", "SO-6", "SO-7"], [" A1", None, "B2", "A1"], [3, 4, -1, None])],
    )
    for path in (clean, broken):
        csv = path.with_suffix(".csv")
        pd.read_parquet(path).to_csv(csv, index=False)
        from_csv = lealta.rfm(csv, purchase=purchase)
        from_parquet = lealta.rfm(path, purchase=purchase)
        keys = ("rows_read", "rows_kept", "rejected")
        report = {k: from_parquet.attrs["lealta"][k] for k in keys}
        assert report == {k: from_csv.attrs["lealta"][k] for k in keys}
        pd.testing.assert_frame_equal(from_csv, from_parquet)
    assert set(lealta.rfm(broken).attrs["lealta"]["rejected"]) == {
        "cancelled", "missing_customer", "non_positive_amount", "bad_amount",
    }  # fmt: skip


def test_dates_written_as_text_are_still_parsed_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "text-dates.parquet"
    frame = pd.DataFrame(
        {"order_id": ["SO-1"], "customer_id": ["A"], "order_date": ["2024-13-45"], "amount": [1.0]}
    )
    frame.to_parquet(path)
    assert "bad_date" not in never(path)
    assert never(path) == EVERY_RULE - {"bad_date"}


@pytest.mark.parametrize(
    ("options", "tested"),
    [
        (RFMOptions(), []),
        (RFMOptions(as_of=dt.date(2024, 1, 2)), ["after_as_of"]),
        (RFMOptions(as_of=dt.date(2024, 1, 9), window_days=5), ["after_as_of", "before_window"]),
        (RFMOptions(as_of=dt.date(2024, 1, 9), keep_after_as_of=True), []),
    ],
)
def test_with_every_rule_ruled_out_only_the_date_rules_are_left(
    tmp_path: Path, options: RFMOptions, tested: list[str]
) -> None:
    from lealta.orders.cleaning import reasons_tested

    path = write(tmp_path / "o.parquet", [CLEAN])
    engine = connect("duckdb")
    columns = detect_columns(open_source(engine, path).columns, None, ()).columns
    assert reasons_tested(columns, options, options.as_of, never(path)) == tested
    assert "missing_customer" in reasons_tested(columns, options, options.as_of)


@pytest.mark.parametrize("purchase", ["order", "day", "row"])
@pytest.mark.parametrize("count_kept", [True, False])
def test_an_aggregate_without_rejects_leaves_the_reason_out_and_gives_the_same_rows(
    tmp_path: Path, purchase: Literal["order", "day", "row"], count_kept: bool
) -> None:
    import ibis

    from lealta.orders.cleaning import clean
    from lealta.segmentation.metrics import aggregate_rows

    path = write(
        tmp_path / "o.parquet",
        [CLEAN, group(["SO-9", "SO-9", "SO-2"], ["Q", "Q", "B2"], [1, 2, 3])],
    )
    engine = connect("duckdb")
    source = open_source(engine, path)
    columns = detect_columns(source.columns, None, ()).columns
    options = RFMOptions(purchase=purchase)
    rows = clean(engine, source, columns, options, date_format=None, as_of=None, never=never(path))

    def aggregate(rejects: bool) -> tuple[pd.DataFrame, str]:
        expr = aggregate_rows(rows, options, (), True, count_kept=count_kept, rejects=rejects)
        frame = engine.execute(expr.order_by("customer_id")).reset_index(drop=True)
        return frame, ibis.to_sql(expr, dialect="duckdb")

    (with_reason, sql_with), (without, sql_without) = aggregate(True), aggregate(False)
    pd.testing.assert_frame_equal(with_reason, without)
    assert with_reason.columns[0] == "reason"
    assert without.reason.isna().all()
    assert sql_with.count('"reason"') > sql_without.count('"reason"')
