"""The same ibis expressions give identical results on Apache Spark (local mode) and DuckDB."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="the Spark engine is the optional extra lealta[spark]")
if shutil.which("java") is None:  # .ci/run installs it; a developer machine may lack it
    pytest.skip(
        "Spark needs Java 17 (e.g. apt install openjdk-17-jre-headless)", allow_module_level=True
    )

from lealta.api import rfm_run

# One group: under `pytest --dist loadgroup` every Spark test runs on one worker, which starts
# one JVM (about 10 CPU s, and as much again warming it up) instead of one per worker.
pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]
DATA = Path(__file__).parent.parent / "data"


def customers(engine: str, path: Path, **options: Any) -> pd.DataFrame:
    run = rfm_run(path, engine=engine, **options)
    frame = run.to_pandas()
    for column in ("first_purchase", "last_purchase"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    keys = [*run.groups, "customer_id"]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


CASES = {
    "online retail (UCI)": ("online_retail_sample.csv.gz", {}),
    "CDNOW, compact dates": ("cdnow_sample.csv.gz", {"columns": {"customer": "master_id"}}),
    "R rfm sample": ("rfm_data_orders.csv.gz", {}),
    "R rfm preset": ("rfm_data_orders.csv.gz", {"preset": "r-rfm"}),
    "pymc preset": ("rfm_data_orders.csv.gz", {"preset": "pymc"}),
    "mean monetary, 1 = best, window": (
        "online_retail_sample.csv.gz",
        {"monetary": "mean", "best": 1, "window": 10},
    ),
    "grouped by country": ("online_retail_sample.csv.gz", {"group": ["Country"]}),
}


@pytest.mark.parametrize(("name", "path", "options"), [(k, *v) for k, v in CASES.items()])
def test_spark_and_duckdb_agree(name: str, path: str, options: dict[str, Any]) -> None:
    duck = customers("duckdb", DATA / path, **options)
    spark = customers("spark", DATA / path, **options)
    assert len(duck) > 0, name
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False)


@pytest.fixture(scope="module")
def demo_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lealta.demo.shop import write_orders

    path = tmp_path_factory.mktemp("shop") / "orders.csv"
    write_orders(path, customers=400, seed=11)
    return path


@pytest.mark.parametrize(
    "options",
    [
        {"payment": "promptness"},
        {
            "payment": "method",
            "payment_ranking": {"card": 5, "paypal": 4, "invoice": 1},
            "group": ["channel"],
        },
    ],
    ids=["rfmp promptness", "rfmp method by channel"],
)
def test_spark_and_duckdb_agree_on_rfmp(demo_shop: Path, options: dict[str, Any]) -> None:
    duck = customers("duckdb", demo_shop, **options)
    spark = customers("spark", demo_shop, **options)
    assert duck.p_score.notna().any()
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False)
