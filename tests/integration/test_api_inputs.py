"""``lealta.rfm`` takes a path, a pandas or Polars DataFrame, an Arrow table or an ibis table."""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import lealta
from lealta.errors import InvalidInput, UnreadableFile

ORDERS = Path(__file__).parent.parent / "data" / "rfm_data_orders.csv.gz"
COLUMNS = ["customer_id", "recency", "frequency", "monetary", "rfm_code", "segment"]


@pytest.fixture(scope="module")
def from_path() -> pd.DataFrame:
    return lealta.rfm(ORDERS)[COLUMNS]


@pytest.mark.parametrize("kind", ["pandas", "polars", "arrow", "ibis"])
def test_every_input_kind_gives_the_same_table(from_path: pd.DataFrame, kind: str) -> None:
    frame = pd.read_csv(ORDERS)
    data: object = {
        "pandas": lambda: frame,
        "polars": lambda: pl.from_pandas(frame),
        "arrow": lambda: pa.Table.from_pandas(frame),
        "ibis": lambda: ibis.memtable(frame),
    }[kind]()
    result = lealta.rfm(data)[COLUMNS]
    pd.testing.assert_frame_equal(result.reset_index(drop=True), from_path.reset_index(drop=True))


def test_the_run_description_travels_with_the_frame(from_path: pd.DataFrame) -> None:
    info = lealta.rfm(ORDERS).attrs["lealta"]
    assert info["as_of"] == "2006-12-31"
    assert info["rows_read"] == info["rows_kept"] == 4906
    assert info["columns"]["amount"] == "revenue"


def test_unsupported_inputs_and_roles_are_refused() -> None:
    with pytest.raises(UnreadableFile, match="pass a file path"):
        lealta.rfm(42)
    with pytest.raises(InvalidInput, match="unknown column roles"):
        lealta.rfm(ORDERS, columns={"client": "customer_id"})
    with pytest.raises(InvalidInput, match="best takes 5"):
        lealta.rfm(ORDERS, best=3)
