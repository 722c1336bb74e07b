"""Affinity gives identical figures on Apache Spark (local mode) and DuckDB."""

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

from lealta.affinity.lines import read_lines
from lealta.affinity.next_best import next_best
from lealta.affinity.options import AffinityOptions
from lealta.affinity.pairs import in_sequence, together
from lealta.engines import connect

# One group: under `pytest --dist loadgroup` every Spark test runs on one worker, which starts
# one JVM (about 10 CPU s, and as much again warming it up) instead of one per worker.
pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

# Baskets over three weeks, with a cancellation and a line on the as-of day left out.
LINES = """order,customer,date,category,amount
1,ann,2024-05-01 10:00:00,tee,10
1,ann,2024-05-01 10:00:00,jeans,40
2,bob,2024-05-02 09:00:00,tee,10
2,bob,2024-05-02 09:00:00,jeans,40
3,bob,2024-05-09 09:00:00,shoes,60
4,cyd,2024-05-03 12:00:00,tee,10
5,cyd,2024-05-10 12:00:00,shoes,60
5,cyd,2024-05-10 12:00:00,socks,5
6,dan,2024-05-04 08:00:00,jeans,40
7,dan,2024-05-12 08:00:00,socks,5
C8,ann,2024-05-13 08:00:00,shoes,60
9,eve,2024-05-20 08:00:00,tee,10
"""


def figures(engine_name: str, path: Path) -> dict[str, pd.DataFrame]:
    options = AffinityOptions(min_count=1, gap_days=7, as_of=pd.Timestamp("2024-05-20").date())
    engine = connect(engine_name)
    lines = read_lines(engine, path, options)
    rules = in_sequence(lines.table, options)
    found = {
        "together": engine.execute(together(lines.table, options)),
        "sequence": engine.execute(rules),
        "next_best": engine.execute(next_best(lines.table, rules, options)),
    }
    return {name: frame.reset_index(drop=True) for name, frame in found.items()}


def test_spark_and_duckdb_agree_on_pairs_and_next_best(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text(LINES, encoding="utf-8")
    duck, spark = figures("duckdb", path), figures("spark", path)
    # 7 baskets (C8 is cancelled, eve's is on the as-of day): tee with jeans, shoes with socks
    assert len(duck["together"]) == 4
    # in sequence within 7 days: bob tee->shoes and jeans->shoes (7 days to the minute),
    # cyd tee->shoes and tee->socks (7 days), dan jeans->socks is 8 days: out
    assert set(zip(duck["sequence"].item_a, duck["sequence"].item_b, strict=True)) == {
        ("tee", "shoes"),
        ("jeans", "shoes"),
        ("tee", "socks"),
    }
    for name in duck:
        pd.testing.assert_frame_equal(duck[name], spark[name], check_dtype=False)
