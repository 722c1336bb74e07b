"""``lealta demo-data --lines``: the demo orders spread over product lines that add up to each
order, with products that go together, in every file format."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lealta.demo.baskets import BY_SKU
from lealta.demo.shop import generate_orders, write_orders
from lealta.errors import InvalidInput

ORDERS = 1500


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    path = tmp_path_factory.mktemp("lines") / "lines.parquet"
    reported: list[int] = []
    assert write_orders(path, orders=ORDERS, seed=3, lines=True, progress=reported.append) == ORDERS
    assert sum(reported) == ORDERS  # progress counts orders, not lines
    return pd.read_parquet(path)


def test_every_order_is_spread_over_lines_that_add_up_to_it(lines: pd.DataFrame) -> None:
    orders = generate_orders(orders=ORDERS, seed=3).to_pandas().set_index("order_id")
    per_order = lines.groupby("order_id").agg(
        amount=("amount", "sum"), quantity=("quantity", "sum"), rows=("amount", "size")
    )
    assert len(per_order) == ORDERS
    assert (per_order.amount - orders.amount.loc[per_order.index]).abs().max() < 1e-6
    assert (per_order.quantity == orders["items"].loc[per_order.index]).all()
    assert (lines.amount > 0).all()
    assert 1.2 < len(lines) / ORDERS < 2.5  # baskets: often more than one product
    source = orders.loc[lines.order_id]
    assert (lines.customer_id.to_numpy() == source.customer_id.to_numpy()).all()
    assert (lines.order_date.to_numpy() == source.order_date.to_numpy()).all()


def test_a_lines_product_has_its_catalogue_name_and_category(lines: pd.DataFrame) -> None:
    for sku, name, category in (
        lines[["product_id", "product_name", "category"]]
        .drop_duplicates("product_id")
        .itertuples(index=False)
    ):
        assert (BY_SKU[sku].name, BY_SKU[sku].category) == (name, category)
    pairs = lines.groupby("order_id").product_id.apply(frozenset)
    assert (pairs.map(lambda p: {"SHO-SNEAKERS", "APP-SOCKS"} <= p)).sum() > 10


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".jsonl", ".xlsx"])
def test_the_same_lines_in_every_format(lines: pd.DataFrame, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"lines{suffix}"
    write_orders(path, orders=ORDERS, seed=3, lines=True)
    if suffix == ".xlsx":
        found = pd.read_excel(path)
    elif suffix == ".jsonl":
        found = pd.read_json(path, lines=True)
    else:
        found = pd.read_csv(path)
    assert list(found.columns) == list(lines.columns)
    assert found.product_id.tolist() == lines.product_id.tolist()
    assert found.amount.round(2).tolist() == lines.amount.round(2).tolist()


def test_the_same_seed_writes_the_same_lines(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv.gz", tmp_path / "b.csv.gz"
    write_orders(first, orders=300, seed=5, lines=True)
    write_orders(second, orders=300, seed=5, lines=True)
    assert first.read_bytes() == second.read_bytes()


def test_lines_beyond_an_excel_sheet_are_refused_and_leave_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lealta.demo.files as files

    monkeypatch.setattr(files, "XLSX_MAX_ROWS", 250)  # 200 orders fit, their lines do not
    with pytest.raises(InvalidInput, match="Excel sheet"):
        write_orders(tmp_path / "lines.xlsx", orders=200, seed=5, lines=True)
    assert list(tmp_path.iterdir()) == []
