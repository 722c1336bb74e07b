"""The score code (``rfm_code``) read from a list of every combination of scores."""

from __future__ import annotations

import itertools

import ibis
import pyarrow as pa
import pytest

from lealta.engines import connect
from lealta.segmentation import scoring
from lealta.segmentation.scoring import combinations, score_code, score_combinations


def written_codes(levels: dict[str, int]) -> list[str | None]:
    """Every combination of scores (and missing ones) through ``score_code``, on DuckDB."""
    dims = list(levels)
    rows = list(score_combinations([levels[d] for d in dims]))
    columns = {
        f"{d}_score": pa.array([row[i] for row in rows], pa.int64()) for i, d in enumerate(dims)
    }
    table = ibis.memtable(pa.table(columns))
    expr = table.select(code=score_code(table, dims, levels))
    return [row["code"] for row in connect("duckdb").rows(expr)]


@pytest.mark.parametrize(
    "levels",
    [
        {"r": 5, "f": 5, "m": 5},
        {"r": 4, "f": 2, "m": 3},
        {"r": 10, "f": 3, "m": 2},
        {"r": 5, "f": 5, "m": 5, "p": 5},
    ],
)
def test_the_looked_up_code_is_the_scores_written_one_after_the_other(
    levels: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = [
        "".join("-" if s is None else str(s) for s in combo)
        for combo in score_combinations(list(levels.values()))
    ]
    assert written_codes(levels) == expected
    monkeypatch.setattr(scoring, "LOOKUP_MOST", 0)  # cast and joined instead
    assert written_codes(levels) == expected


def test_combinations_count_a_missing_score_as_one_more_level() -> None:
    assert combinations([5, 5, 5]) == 216
    assert len(list(score_combinations([5, 5, 5]))) == 216
    assert list(score_combinations([1, 2]))[:3] == [(None, None), (None, 1), (None, 2)]
    assert list(itertools.islice(score_combinations([2, 1]), 2, 4)) == [(1, None), (1, 1)]
