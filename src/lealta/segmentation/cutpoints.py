"""Data-dependent cut points of other tools' scoring, reproduced bit for bit. Pure.

``r-rfm`` (R package ``rfm`` 0.3.0)
    Cut points are R's type-7 sample quantiles at ``1/n, 2/n, …`` plus one; a value ``v``
    gets level ``1 + #{b : b <= v}`` (left-closed intervals). Coinciding cut points leave a
    level unused, as in R.
``pymc`` (pymc-marketing ``rfm_segments``)
    Edges are numpy's linear quantiles at 0, .25, .5, .75, 1; duplicate edges are dropped
    (``pandas.qcut(duplicates="drop")``); a value gets level ``1 + #{interior edge e : e < v}``
    (right-closed intervals). Fewer than two bins cannot be scored, as in pymc-marketing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lealta.errors import InvalidInput


@dataclass(frozen=True)
class CutPoints:
    """Break points, which side of an interval is closed, and the number of levels."""

    breaks: tuple[float, ...]
    closed: Literal["left", "right"]
    levels: int
    note: str | None = None


def r_seq01(n: int) -> list[float]:
    """R's ``seq(0, 1, length.out = n + 1)``: ``i * (1 / n)`` with the last value exactly 1."""
    by = 1.0 / n
    return [*(i * by for i in range(n)), 1.0]


def r_quantile7(sorted_values: Sequence[float], p: float) -> float:
    """R's ``quantile(x, p, type = 7)`` on already sorted values, with R's arithmetic."""
    n = len(sorted_values)
    index = 1 + max(n - 1, 0) * p
    lo, hi = math.floor(index), math.ceil(index)
    q = float(sorted_values[lo - 1])
    upper = float(sorted_values[hi - 1])
    if index > lo and upper != q:
        h = index - lo
        q = (1 - h) * q + h * upper
    return q


def r_rfm_cut_points(values: Sequence[float], bins: int) -> CutPoints:
    """Cut points of ``rfm_table_order`` for ``bins`` levels (inner quantiles plus one)."""
    ordered = sorted(values)
    probs = r_seq01(bins)[1:-1]
    breaks = tuple(r_quantile7(ordered, p) + 1 for p in probs)
    return CutPoints(breaks, "left", bins)


def numpy_linear_quantile(sorted_values: Sequence[float], q: float) -> float:
    """numpy's default (``linear``) quantile, with its interpolation formula."""
    n = len(sorted_values)
    virtual = (n - 1) * q
    below = math.floor(virtual)
    above = min(below + 1, n - 1)
    t = virtual - below
    a, b = float(sorted_values[below]), float(sorted_values[above])
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def pymc_cut_points(values: Sequence[float], name: str) -> CutPoints:
    """Quartile edges of ``rfm_segments`` with pandas' ``duplicates="drop"`` fallback."""
    ordered = sorted(values)
    edges = sorted({numpy_linear_quantile(ordered, q) for q in (0.0, 0.25, 0.5, 0.75, 1.0)})
    bins = len(edges) - 1
    if bins < 2:
        raise InvalidInput(
            f"the pymc preset cannot score {name}: too few distinct values for quartiles "
            "(pymc-marketing fails on such data too); use the default scoring",
            field="preset",
        )
    note = None
    if bins == 2:
        note = (
            f"{name} scores will not exceed 2 (too many ties for quartiles), as in pymc-marketing"
        )
    return CutPoints(tuple(edges[1:-1]), "right", bins, note)
