"""Inline SVG charts for the HTML report.

Every chart function returns one ``<svg>`` element as a string, ready to paste into a page:
no script, no external reference, every text escaped, and a ``<title>`` on each mark so that
a pointer or a screen reader gets the exact figure. Sizes are in user units; the page can
scale a chart down through its ``viewBox``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import numpy.typing as npt

Formatter = Callable[[float], str]

#: Categorical colours, ordered so that neighbours stay distinguishable.
PALETTE = (
    "#2563eb", "#ea580c", "#059669", "#9333ea", "#dc2626",
    "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d",
)  # fmt: skip
DASH = "\u2013"  # stands for a missing value

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
_INK, _MUTED, _RULE, _ACCENT, _EMPTY = "#1f2937", "#6b7280", "#e5e7eb", "#3b6fd4", "#f3f4f6"
_RAMP = ((0.0, (239, 246, 255)), (0.5, (96, 165, 250)), (1.0, (23, 55, 135)))
_MID, _END, _BOLD = 'text-anchor="middle"', 'text-anchor="end"', 'font-weight="600"'
_SMALL, _BAR = f'fill="{_MUTED}" font-size="11"', 'class="bar" rx="2"'


def format_number(value: float, decimals: int = 0) -> str:
    """Format with thousands separators; a missing or infinite value becomes an en dash."""
    return f"{value:,.{decimals}f}" if math.isfinite(value) else DASH


def format_percent(fraction: float, decimals: int = 1) -> str:
    """Format a fraction (0.231) as a percentage ("23.1%")."""
    return f"{fraction * 100:,.{decimals}f}%" if math.isfinite(fraction) else DASH


def format_compact(value: float) -> str:
    """Format with about three significant digits and a k/M/B suffix, for tight spaces."""
    if not math.isfinite(value):
        return DASH
    for unit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k"), (1.0, "")):
        # Compare with the rounded value, so that 999,960 reads "1M" and not "1000k".
        if abs(value) >= unit * 0.9995 or unit == 1.0:
            scaled = value / unit
            digits = 0 if abs(scaled) >= 99.95 else 1 if abs(scaled) >= 9.995 else 2
            text = f"{scaled:.{digits}f}"
            return (text.rstrip("0").rstrip(".") if "." in text else text) + suffix
    raise AssertionError("unreachable: the last unit always matches")


def _svg_open(width: float, height: float, title: str) -> str:
    label = escape(title)
    return (
        f'<svg class="chart" viewBox="0 0 {width:g} {height:g}" width="{width:g}" '
        f'height="{height:g}" role="img" aria-label="{label}" font-family="{_FONT}" '
        f'font-size="13" fill="{_INK}"><title>{label}</title>'
    )


def _text(x: float, y: float, content: str, attrs: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" {attrs}>{escape(content)}</text>'


def _rect(x: float, y: float, w: float, h: float, *, fill: str, tip: str, attrs: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}" '
        f"{attrs}><title>{escape(tip)}</title></rect>"
    )


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 1)].rstrip() + "…"


def _ramp(share: float) -> str:
    share = min(max(share, 0.0), 1.0)
    for (t0, c0), (t1, c1) in itertools.pairwise(_RAMP):
        if share <= t1:
            w = (share - t0) / (t1 - t0)
            r, g, b = (round(a + (z - a) * w) for a, z in zip(c0, c1, strict=True))
            return f"#{r:02x}{g:02x}{b:02x}"
    raise AssertionError("unreachable: share is clamped to the ramp")


def heatmap(
    values: Sequence[Sequence[float]],
    *,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    row_title: str,
    col_title: str,
    title: str,
    value_format: Formatter = format_number,
    label_format: Formatter | None = None,
    cell: float = 60.0,
) -> str:
    """Draw a grid of numbers, shaded from light (low) to dark (high), with a colour key.

    Parameters
    ----------
    values
        One sequence per row, top row first; a NaN cell is drawn grey with a dash.
    row_labels, col_labels
        Labels of the rows (top to bottom) and of the columns (left to right).
    row_title, col_title
        Axis titles, also used in each cell's tooltip.
    title
        Accessible name of the chart.
    value_format
        Formats the exact value in a cell's tooltip.
    label_format
        Formats the label printed in a cell; ``value_format`` by default.
    cell
        Side of a cell.

    Returns
    -------
    str
        One ``<svg>`` element; each cell is a ``rect`` of class ``cell``.
    """
    if len(values) != len(row_labels) or any(len(row) != len(col_labels) for row in values):
        raise ValueError("values need one row per row label and one column per column label")
    short = label_format or value_format
    left, top = 64.0, 8.0
    bottom = top + cell * len(row_labels)
    high = max((v for row in values for v in row if math.isfinite(v)), default=0.0)
    parts = [_svg_open(left + cell * len(col_labels) + 8, bottom + 76, title)]
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            x, y = left + j * cell, top + i * cell
            tip = f"{row_title} {row_labels[i]}, {col_title} {col_labels[j]}: {value_format(value)}"
            share = value / high if math.isfinite(value) and high > 0 else 0.0
            fill = _ramp(share) if math.isfinite(value) else _EMPTY
            cell_attrs = 'class="cell" stroke="#ffffff" stroke-width="2"'
            parts.append(_rect(x, y, cell, cell, fill=fill, tip=tip, attrs=cell_attrs))
            ink = "#ffffff" if share > 0.55 else _INK
            label_attrs = f'{_MID} fill="{ink}" pointer-events="none"'
            parts.append(_text(x + cell / 2, y + cell / 2 + 4, short(value), label_attrs))
    for i, label in enumerate(row_labels):
        parts.append(_text(left - 8, top + (i + 0.5) * cell + 4, label, _END))
    for j, label in enumerate(col_labels):
        parts.append(_text(left + (j + 0.5) * cell, bottom + 18, label, _MID))
    parts.append(
        _text(left + cell * len(col_labels) / 2, bottom + 36, col_title, f"{_MID} {_BOLD}")
    )
    mid = (top + bottom) / 2
    parts.append(_text(16, mid, row_title, f'{_MID} {_BOLD} transform="rotate(-90 16 {mid:.1f})"'))
    parts.append(_colour_key(left, bottom + 54, short(0.0), short(high)))
    return "".join(parts) + "</svg>"


def _colour_key(x: float, y: float, low: str, high: str) -> str:
    steps, width = 6, 18.0
    swatches = "".join(
        f'<rect x="{x + k * width:.1f}" y="{y:.1f}" width="{width:g}" height="10" '
        f'fill="{_ramp(k / (steps - 1))}"/>'
        for k in range(steps)
    )
    low_end = _text(x - 6, y + 9, low, f"{_END} {_SMALL}")
    return swatches + low_end + _text(x + steps * width + 6, y + 9, high, _SMALL)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    value_format: Formatter = format_number,
    notes: Sequence[str] | None = None,
    label_width: float = 170.0,
    bar_width: float = 190.0,
) -> str:
    """Draw one horizontal bar per label, with its value (and a note) printed after it.

    Parameters
    ----------
    labels, values
        The bars, top to bottom. Long labels are shortened on screen; tooltips keep them whole.
    title
        Accessible name of the chart.
    value_format
        Formats the value printed after a bar.
    notes
        Optional second text per bar, printed after the value and a middle dot unless empty.
    label_width, bar_width
        Room for the labels and for the longest bar.

    Returns
    -------
    str
        One ``<svg>`` element; each bar is a ``rect`` of class ``bar``.
    """
    if len(labels) != len(values) or (notes is not None and len(notes) != len(values)):
        raise ValueError("labels, values and notes must have the same length")
    row = 28.0
    high = max((v for v in values if math.isfinite(v)), default=0.0)
    parts = [_svg_open(label_width + bar_width + 210, row * max(len(labels), 1) + 8, title)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 4 + i * row
        length = max(bar_width * value / high, 0.0) if high > 0 and math.isfinite(value) else 0.0
        text = value_format(value) + (f" · {notes[i]}" if notes and notes[i] else "")
        shown = _truncate(label, int(label_width / 8))
        parts.append(_text(label_width - 10, y + row / 2 + 4, shown, _END))
        tip = f"{label}: {text}"
        bar = _rect(label_width, y + 5, length, row - 10, fill=_ACCENT, tip=tip, attrs=_BAR)
        parts.append(
            bar + _text(label_width + length + 6, y + row / 2 + 4, text, f'fill="{_MUTED}"')
        )
    return "".join(parts) + "</svg>"


def score_histogram(counts: Sequence[int], *, title: str, axis_label: str = "Score") -> str:
    """Draw one vertical bar per score, 1 to ``len(counts)``, of how many got that score.

    Parameters
    ----------
    counts
        Number of customers per score; ``counts[0]`` is score 1.
    title
        Accessible name of the chart.
    axis_label
        Name of the score, shown under the axis and in each bar's tooltip.

    Returns
    -------
    str
        One ``<svg>`` element; each bar is a ``rect`` of class ``bar``.
    """
    width, height, side, base = 260.0, 170.0, 10.0, 128.0
    slot = (width - 2 * side) / max(len(counts), 1)
    total, high = sum(counts), max(counts, default=0)
    parts = [_svg_open(width, height, title)]
    for k, count in enumerate(counts, start=1):
        bar_h = (base - 20) * count / high if high > 0 else 0.0
        x = side + (k - 1) * slot + slot * 0.14
        share = format_percent(count / total) if total else DASH
        tip = f"{axis_label} {k}: {count:,} ({share})"
        bar = _rect(x, base - bar_h, slot * 0.72, bar_h, fill=_ACCENT, tip=tip, attrs=_BAR)
        parts.append(bar)
        parts.append(_text(x + slot * 0.36, base - bar_h - 5, format_compact(count), _MID))
        parts.append(_text(x + slot * 0.36, base + 16, str(k), f"{_MID} {_SMALL}"))
    parts.append(f'<line x1="{side:g}" x2="{width - side:g}" y1="{base:g}" y2="{base:g}" ')
    parts.append(f'stroke="{_MUTED}"/>')
    parts.append(_text(width / 2, height - 6, axis_label, f"{_MID} {_SMALL}"))
    return "".join(parts) + "</svg>"


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
    parts = [_svg_open(width, height, title), _grid(ax, ay)]
    for i in drawn:
        who = f"{point_labels[i]} · " if point_labels is not None else ""
        tip = f"{who}{names[i]}: {x_label} {_plain(x[i])}, {y_label} {_plain(y[i])}"
        parts.append(
            f'<circle class="point" cx="{ax.px(x[i]):.1f}" cy="{ay.px(y[i]):.1f}" r="2.6" '
            f'fill="{colour[names[i]]}" fill-opacity="0.6"><title>{escape(tip)}</title></circle>'
        )
    parts.append(_text((left + width - right) / 2, bottom + 38, x_label, f"{_MID} {_BOLD}"))
    mid = (top + bottom) / 2
    parts.append(_text(16, mid, y_label, f'{_MID} {_BOLD} transform="rotate(-90 16 {mid:.1f})"'))
    parts.append(_legend([n for n in legend if n in set(names)], colour, names, width - right))
    parts.append(_text(left, height - 8, _note(len(names), len(keep), len(drawn), noun), _SMALL))
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
        parts.append(f'stroke="{_RULE}"/>' + _text(px, ay.start + 16, format_compact(v), _MID))
    for v in ay.ticks():
        py = ay.px(v)
        parts.append(f'<line x1="{ax.start:g}" x2="{ax.end:g}" y1="{py:.1f}" y2="{py:.1f}" ')
        parts.append(f'stroke="{_RULE}"/>' + _text(ax.start - 6, py + 4, format_compact(v), _END))
    return f"<g {_SMALL}>{''.join(parts)}</g>"


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
        parts.append(_text(x + 36, y + 10, f"{_truncate(name, 26)} ({counts[name]:,})"))
    return "".join(parts)
