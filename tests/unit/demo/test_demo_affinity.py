"""The demo shop's orders, read as the platform's affinity reads its stored orders, mix
categories that go together, so the console's Affinity page (by category, its default) and the
product view have pairs worth reading."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lealta.affinity.options import AffinityOptions
from lealta.affinity.pairs import together
from lealta.affinity.store import ITEM_COLUMNS, order_lines, read_store_lines
from lealta.demo.platform import demo_messages


@pytest.fixture(scope="module")
def lines_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The order lines of a 300-customer demo shop, in the file the store's export writes."""
    rows: list[dict[str, Any]] = []
    for message in demo_messages(300, seed=7, end=dt.date(2026, 11, 22)):
        if message.get("event") == "Order Completed":
            order = message["properties"]
            placed = dt.datetime.fromisoformat(message["timestamp"])
            args = (message["userId"], order["order_id"], placed, order["total"])
            rows.extend(order_lines(*args, order["products"]))
    path = tmp_path_factory.mktemp("demo") / "lines.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def strong_pairs(path: Path, by: str) -> dict[tuple[str, str], float]:
    options = AffinityOptions(by=by)  # type: ignore[arg-type]
    lines = read_store_lines(path, options)
    assert ITEM_COLUMNS[by] == lines.item_column
    pairs = lines.engine.rows(together(lines.table, options))
    return {(p["item_a"], p["item_b"]): p["lift"] for p in pairs if p["lift"] > 1}


def test_categories_that_go_together_are_bought_together_more_than_by_chance(
    lines_file: Path,
) -> None:
    strong = strong_pairs(lines_file, "category")
    assert {("Apparel", "Shoes"), ("Shoes", "Apparel"), ("Beauty", "Home")} <= set(strong)


def test_products_that_go_together_have_a_high_lift(lines_file: Path) -> None:
    strong = strong_pairs(lines_file, "product")
    assert strong[("SHO-SNEAKERS", "APP-SOCKS")] > 2
    assert strong[("BEA-SHAMPOO", "BEA-CONDITIONER")] > 2
    assert strong[("APP-TSHIRT", "APP-TROUSERS")] > 1.5
