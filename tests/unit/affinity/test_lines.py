"""Reading order lines: the period's edges, items left out, baskets without order ids."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from lealta.affinity.lines import detect_item, item_names, read_lines
from lealta.affinity.options import AffinityOptions
from lealta.affinity.report import named
from lealta.engines import connect
from lealta.errors import MissingColumn

AS_OF = dt.date(2024, 6, 30)


def frame(rows: list[tuple[str, str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "order_date", "category", "amount"]).assign(
        amount=lambda f: f.amount.fillna("10")
    )


def test_the_window_starts_at_midnight_and_the_as_of_day_is_out() -> None:
    rows = [
        ("ann", "2024-06-20 00:00:00", "tee", None),  # as-of - 10 days, midnight: in
        ("ann", "2024-06-19 23:59:59", "tee", None),  # a second before: out
        ("bob", "2024-06-29 23:59:59", "hat", None),  # the last second before as-of: in
        ("bob", "2024-06-30 00:00:00", "hat", None),  # the as-of day: out
        ("cyd", "2024-06-25 10:00:00", "", None),  # no item: out
    ]
    options = AffinityOptions(as_of=AS_OF, window_days=10)
    lines = read_lines(connect("duckdb"), frame(rows), options)
    assert (lines.rows_read, lines.rows_kept) == (5, 2)
    assert lines.rejected == {"after_as_of": 1, "before_window": 1, "missing_item": 1}
    kept = lines.engine.execute(lines.table.order_by("ts"))
    assert list(kept.ts.dt.strftime("%d %H:%M:%S")) == ["20 00:00:00", "29 23:59:59"]


def test_without_order_ids_a_customers_day_is_one_basket() -> None:
    rows = [
        ("ann", "2024-06-01 09:00:00", "tee", None),
        ("ann", "2024-06-01 18:00:00", "jeans", None),
        ("ann", "2024-06-02 09:00:00", "hat", None),
    ]
    lines = read_lines(connect("duckdb"), frame(rows), AffinityOptions())
    assert lines.as_of == dt.date(2024, 6, 3)  # the day after the last line
    assert lines.notes == ["no order id column: a customer's lines of one day are a basket"]
    baskets = lines.engine.execute(lines.table).groupby("basket").item.apply(set)
    assert sorted(map(sorted, baskets)) == [["hat"], ["jeans", "tee"]]


def test_the_item_column_is_detected_or_named() -> None:
    assert detect_item(["InvoiceNo", "StockCode", "Description"], "product", None) == "StockCode"
    assert detect_item(["order", "Product Category"], "category", None) == "Product Category"
    assert detect_item(["order", "Colour"], "category", "Colour") == "Colour"
    with pytest.raises(MissingColumn) as caught:
        detect_item(["order", "Colour"], "product", None)
    assert caught.value.field == "product"


def test_a_products_name_is_its_latest_and_the_figures_stay_keyed_by_id() -> None:
    rows = pd.DataFrame(
        [
            ("ann", "2024-06-01 09:00:00", "TEE", "Tee", "10"),
            ("bob", "2024-06-03 09:00:00", "TEE", "T-shirt", "10"),  # renamed: the latest wins
            ("cyd", "2024-06-04 09:00:00", "TEE", "", "10"),  # no name: keeps the last one
            ("cyd", "2024-06-04 09:00:00", "HAT", None, "10"),
        ],
        columns=["customer_id", "order_date", "product_id", "name", "amount"],
    )
    lines = read_lines(connect("duckdb"), rows, AffinityOptions(by="product"))
    assert lines.label_column == "name"
    assert item_names(lines) == {"TEE": "T-shirt"}
    assert set(lines.engine.execute(lines.table).item) == {"TEE", "HAT"}
    assert named("TEE", item_names(lines)) == "TEE (T-shirt)"
    assert named("HAT", item_names(lines)) == "HAT"
    by_category = read_lines(
        connect("duckdb"), frame([("ann", "2024-06-01", "tee", None)]), AffinityOptions()
    )
    assert item_names(by_category) == {}
