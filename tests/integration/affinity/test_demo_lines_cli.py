"""What an analyst runs first: ``lealta demo-data --lines``, then ``lealta affinity`` on it
(products read by name, categories bought together), while ``lealta rfm`` on the same lines
gives the figures of the one-row-per-order file."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lealta.cli.main import app
from lealta.demo.baskets import BY_SKU

runner = CliRunner()


def lealta(*args: str | Path) -> str:
    result = runner.invoke(app, [*map(str, args)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    return str(result.stdout + result.stderr)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("demo")
    orders, lines = folder / "orders.csv", folder / "lines.csv"
    lealta("demo-data", orders, "--customers", "400")
    said = lealta("demo-data", lines, "--customers", "400", "--lines")
    assert "one row per order line" in said
    return orders, lines


def test_products_are_shown_by_name_beside_their_id(files: tuple[Path, Path]) -> None:
    _, lines = files
    report = lines.parent / "report.html"
    said = lealta("affinity", lines, "--by", "product", "--report", report)
    shown = re.findall(r"([A-Z]{3}-[A-Z]+) \(([^)]+)", said)
    assert len(shown) == 30  # the 15 strongest pairs, each product with its name
    assert all(BY_SKU[sku].name.startswith(name) for sku, name in shown)
    html = report.read_text(encoding="utf-8")
    assert "BEA-SHAMPOO (Shampoo)" in html
    assert "column product_name" in html
    axes = re.findall(r"<text[^>]*>([^<0-9\u2013][^<]*)</text>", html)
    names = {product.name for product in BY_SKU.values()}
    named = [a for a in axes if any(n.startswith(a.rstrip("…")) for n in names)]
    assert len(named) == 24  # the 12 busiest products, on both axes
    assert not any(re.match(r"[A-Z]{3}-", axis) for axis in axes)  # the heat map: names too


def test_categories_are_bought_together_in_the_lines_file(files: tuple[Path, Path]) -> None:
    orders, lines = files
    pairs = lines.parent / "pairs.csv"
    lealta("affinity", lines, "-o", pairs)
    found = pd.read_csv(pairs)
    strong = set(zip(found.item_a, found.item_b, strict=True))
    assert {("Apparel", "Shoes"), ("Beauty", "Home")} <= strong
    one_per_order = lines.parent / "one.csv"
    lealta("affinity", orders, "-o", one_per_order)
    assert pd.read_csv(one_per_order).empty  # one category per order: nothing together


def test_rfm_of_the_lines_is_the_rfm_of_the_orders(files: tuple[Path, Path]) -> None:
    orders, lines = files
    a, b = orders.parent / "a.csv", orders.parent / "b.csv"
    lealta("rfm", orders, "-o", a, "--quiet")
    lealta("rfm", lines, "-o", b, "--quiet")
    of_orders = pd.read_csv(a).sort_values("customer_id", ignore_index=True)
    of_lines = pd.read_csv(b).sort_values("customer_id", ignore_index=True)
    assert len(of_orders) == 400
    pd.testing.assert_frame_equal(of_orders, of_lines)
