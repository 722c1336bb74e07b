"""The scatter chart of the report: points coloured by category, on linear or log axes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import numpy.typing as npt

from lealta.report.drawing import BOLD, END, MID, PALETTE, SMALL, svg_open, svg_text, truncate
from lealta.report.format import format_compact, format_number

_RULE = "#e5e7eb"  # colour of the grid lines


@dataclass(frozen=True)
class _Axis:
    """Maps data to pixels; ``lo`` and ``hi`` are powers of ten when ``log`` is set."""

    lo: float
    hi: float
    log: bool
    start: float
    end: float

    @classmethod
    def fit(cls, data: npt.NDArray[np.float64], *, log: bool, start: float, end: float) -> _Axis:
        t = np.log10(data) if log else data
        lo, hi = (float(t.min()), float(t.max())) if t.size else (0.0, 1.0)
        if log:
            return cls(math.floor(lo), max(math.ceil(hi), math.floor(lo) + 1), log, start, end)
        step = _nice_step(hi - lo if hi > lo else max(abs(lo), 1.0))
        lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
        # A single value sits in the middle of the axis rather than on its edge.
        return (
            cls(lo - step, hi + step, log, start, end) if hi <= lo else cls(lo, hi, log, start, end)
        )

    def px(self, value: float) -> float:
        t = math.log10(value) if self.log else value
        return self.start + (t - self.lo) / (self.hi - self.lo) * (self.end - self.start)

    def ticks(self) -> list[float]:
        if self.log:
            mults = (1, 2, 5) if self.hi - self.lo <= 2 else (1,)
            found = (m * 10.0**d for d in range(int(self.lo), int(self.hi) + 1) for m in mults)
            return [v for v in found if math.log10(v) <= self.hi + 1e-9]
        step = _nice_step(self.hi - self.lo)
        return [self.lo + k * step for k in range(round((self.hi - self.lo) / step) + 1)]


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / target
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude)


def scatter(
    xs: Sequence[float],
    ys: Sequence[float],
    categories: Sequence[str],
    *,
    title: str,
    x_label: str,
    y_label: str,
    log_x: bool = False,
    log_y: bool = False,
    order: Sequence[str] | None = None,
    point_labels: Sequence[str] | None = None,
    max_points: int = 3000,
    noun: str = "points",
) -> str:
    """Draw points coloured by category, with a legend and optional log axes.

    Parameters
    ----------
    xs, ys, categories
        Coordinates and category of each point. A value that is not finite, or not positive
        on a log axis, cannot be placed: its point is left out and counted under the chart.
    title, x_label, y_label
        Accessible name of the chart and the axis titles.
    log_x, log_y
        Use a base-10 logarithmic scale on that axis.
    order
        Legend and colour order of the categories; by default, order of first appearance.
    point_labels
        Name of each point, first in its tooltip.
    max_points
        At most this many points are drawn, by a fixed-seed sample: the same data always
        gives the same file, and the file stays small.
    noun
        What a point stands for, in the note under the chart.

    Returns
    -------
    str
        One ``<svg>`` element; each point is a ``circle`` of class ``point``.
    """
    x, y = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    names = [str(c) for c in categories]
    sizes = {len(x), len(y), len(names), len(point_labels or names)}
    if len(sizes) != 1:
        raise ValueError("xs, ys, categories and point_labels must have the same length")
    keep = np.flatnonzero(_plottable(x, log_x) & _plottable(y, log_y))
    # A seeded permutation samples and also interleaves the categories, so none hides another.
    drawn = np.random.default_rng(0).permutation(keep)[: max(max_points, 0)]
    legend = list(dict.fromkeys([*(order or []), *names]))
    colour = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(legend)}
    width, height, left, right, top, bottom = 900.0, 430.0, 70.0, 250.0, 12.0, 362.0
    ax = _Axis.fit(x[keep], log=log_x, start=left, end=width - right)
    ay = _Axis.fit(y[keep], log=log_y, start=bottom, end=top)
    parts = [svg_open(width, height, title), _grid(ax, ay)]
    for i in drawn:
        who = f"{point_labels[i]} · " if point_labels is not None else ""
        tip = f"{who}{names[i]}: {x_label} {_plain(x[i])}, {y_label} {_plain(y[i])}"
        parts.append(
            f'<circle class="point" cx="{ax.px(x[i]):.1f}" cy="{ay.px(y[i]):.1f}" r="2.6" '
            f'fill="{colour[names[i]]}" fill-opacity="0.6"><title>{escape(tip)}</title></circle>'
        )
    parts.append(svg_text((left + width - right) / 2, bottom + 38, x_label, f"{MID} {BOLD}"))
    mid = (top + bottom) / 2
    parts.append(svg_text(16, mid, y_label, f'{MID} {BOLD} transform="rotate(-90 16 {mid:.1f})"'))
    parts.append(_legend([n for n in legend if n in set(names)], colour, names, width - right))
    parts.append(svg_text(left, height - 8, _note(len(names), len(keep), len(drawn), noun), SMALL))
    return "".join(parts) + "</svg>"


def _plottable(values: npt.NDArray[np.float64], log: bool) -> npt.NDArray[np.bool_]:
    finite: npt.NDArray[np.bool_] = np.isfinite(values)
    return finite & (values > 0) if log else finite


def _plain(value: float) -> str:
    return format_number(value, 0 if float(value).is_integer() else 2)


def _note(total: int, placeable: int, drawn: int, noun: str) -> str:
    note = f"{drawn:,} of {total:,} {noun} shown"
    if drawn < placeable:
        note += " (a fixed random sample)"
    if placeable < total:
        note += f"; {total - placeable:,} without values that can be placed are left out"
    return note


def _grid(ax: _Axis, ay: _Axis) -> str:
    parts = []
    for v in ax.ticks():
        px = ax.px(v)
        parts.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{ay.end:g}" y2="{ay.start:g}" ')
        parts.append(f'stroke="{_RULE}"/>' + svg_text(px, ay.start + 16, format_compact(v), MID))
    for v in ay.ticks():
        py = ay.px(v)
        parts.append(f'<line x1="{ax.start:g}" x2="{ax.end:g}" y1="{py:.1f}" y2="{py:.1f}" ')
        tick = svg_text(ax.start - 6, py + 4, format_compact(v), END)
        parts.append(f'stroke="{_RULE}"/>' + tick)
    return f"<g {SMALL}>{''.join(parts)}</g>"


def _legend(shown: Sequence[str], colour: dict[str, str], names: Sequence[str], x: float) -> str:
    counts = dict.fromkeys(shown, 0)
    for name in names:
        counts[name] += 1
    parts = []
    for k, name in enumerate(shown):
        y = 16 + k * 22
        tip = escape(f"{name}: {counts[name]:,}")
        parts.append(f'<circle cx="{x + 24:g}" cy="{y + 6:g}" r="5" fill="{colour[name]}">')
        parts.append(f"<title>{tip}</title></circle>")
        parts.append(svg_text(x + 36, y + 10, f"{truncate(name, 26)} ({counts[name]:,})"))
    return "".join(parts)
