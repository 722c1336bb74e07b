"""A Parquet input, whose kept rows are its row total less the rejected ones, gives the same
customers and cleaning report on Apache Spark (local mode) as on DuckDB."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="the Spark engine is the optional extra lealta[spark]")
if shutil.which("java") is None:  # .ci/run installs it; a developer machine may lack it
    pytest.skip(
        "Spark needs Java 17 (e.g. apt install openjdk-17-jre-headless)", allow_module_level=True
    )

from lealta.api import rfm_run

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]
DATA = Path(__file__).parent.parent.parent / "data"


def test_a_parquet_file_is_counted_and_scored_alike_on_spark_and_duckdb(tmp_path: Path) -> None:
    parquet = tmp_path / "orders.parquet"
    pd.read_csv(DATA / "online_retail_sample.csv.gz", dtype=str).to_parquet(parquet)
    frames, reports = [], []
    for engine in ("duckdb", "spark"):
        run = rfm_run(parquet, engine=engine)
        frame = run.to_pandas()
        for column in ("first_purchase", "last_purchase"):
            frame[column] = pd.to_datetime(frame[column]).dt.date
        frames.append(frame.sort_values("customer_id", kind="stable").reset_index(drop=True))
        reports.append(run.cleaning)
    assert reports[0] == reports[1]
    assert reports[0].rows_read == 30_000
    assert reports[0].rows_rejected > 0
    pd.testing.assert_frame_equal(frames[0], frames[1], check_dtype=False)
