"""Inline SVG charts for the HTML report.

Every chart function returns one ``<svg>`` element as a string, ready to paste into a page:
no script, no external reference, every text escaped, and a ``<title>`` on each mark so that
a pointer or a screen reader gets the exact figure. Sizes are in user units; the page can
scale a chart down through its ``viewBox``.

This module has the heat map, bar chart and score histogram, and re-exports the scatter
chart (:mod:`lealta.report.scatter`), the palette and the number formats.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from lealta.report.drawing import (
    BOLD,
    END,
    INK,
    MID,
    MUTED,
    PALETTE,
    SMALL,
    svg_open,
    svg_rect,
    svg_text,
    truncate,
)
from lealta.report.format import DASH, Formatter, format_compact, format_number, format_percent
from lealta.report.scatter import scatter

__all__ = [
    "DASH",
    "PALETTE",
    "Formatter",
    "bar_chart",
    "format_compact",
    "format_number",
    "format_percent",
    "heatmap",
    "scatter",
    "score_histogram",
]

_ACCENT, _EMPTY = "#3b6fd4", "#f3f4f6"  # colours of bars and of cells without a value
_RAMP = ((0.0, (239, 246, 255)), (0.5, (96, 165, 250)), (1.0, (23, 55, 135)))
_BAR = 'class="bar" rx="2"'


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
    parts = [svg_open(left + cell * len(col_labels) + 8, bottom + 76, title)]
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            x, y = left + j * cell, top + i * cell
            tip = f"{row_title} {row_labels[i]}, {col_title} {col_labels[j]}: {value_format(value)}"
            share = value / high if math.isfinite(value) and high > 0 else 0.0
            fill = _ramp(share) if math.isfinite(value) else _EMPTY
            cell_attrs = 'class="cell" stroke="#ffffff" stroke-width="2"'
            parts.append(svg_rect(x, y, cell, cell, fill=fill, tip=tip, attrs=cell_attrs))
            ink = "#ffffff" if share > 0.55 else INK
            label_attrs = f'{MID} fill="{ink}" pointer-events="none"'
            parts.append(svg_text(x + cell / 2, y + cell / 2 + 4, short(value), label_attrs))
    for i, label in enumerate(row_labels):
        parts.append(svg_text(left - 8, top + (i + 0.5) * cell + 4, label, END))
    for j, label in enumerate(col_labels):
        parts.append(svg_text(left + (j + 0.5) * cell, bottom + 18, label, MID))
    parts.append(
        svg_text(left + cell * len(col_labels) / 2, bottom + 36, col_title, f"{MID} {BOLD}")
    )
    mid = (top + bottom) / 2
    parts.append(svg_text(16, mid, row_title, f'{MID} {BOLD} transform="rotate(-90 16 {mid:.1f})"'))
    parts.append(_colour_key(left, bottom + 54, short(0.0), short(high)))
    return "".join(parts) + "</svg>"


def _colour_key(x: float, y: float, low: str, high: str) -> str:
    steps, width = 6, 18.0
    swatches = "".join(
        f'<rect x="{x + k * width:.1f}" y="{y:.1f}" width="{width:g}" height="10" '
        f'fill="{_ramp(k / (steps - 1))}"/>'
        for k in range(steps)
    )
    low_end = svg_text(x - 6, y + 9, low, f"{END} {SMALL}")
    return swatches + low_end + svg_text(x + steps * width + 6, y + 9, high, SMALL)


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
    parts = [svg_open(label_width + bar_width + 210, row * max(len(labels), 1) + 8, title)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 4 + i * row
        length = max(bar_width * value / high, 0.0) if high > 0 and math.isfinite(value) else 0.0
        text = value_format(value) + (f" · {notes[i]}" if notes and notes[i] else "")
        shown = truncate(label, int(label_width / 8))
        parts.append(svg_text(label_width - 10, y + row / 2 + 4, shown, END))
        tip = f"{label}: {text}"
        bar = svg_rect(label_width, y + 5, length, row - 10, fill=_ACCENT, tip=tip, attrs=_BAR)
        parts.append(
            bar + svg_text(label_width + length + 6, y + row / 2 + 4, text, f'fill="{MUTED}"')
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
    parts = [svg_open(width, height, title)]
    for k, count in enumerate(counts, start=1):
        bar_h = (base - 20) * count / high if high > 0 else 0.0
        x = side + (k - 1) * slot + slot * 0.14
        share = format_percent(count / total) if total else DASH
        tip = f"{axis_label} {k}: {count:,} ({share})"
        bar = svg_rect(x, base - bar_h, slot * 0.72, bar_h, fill=_ACCENT, tip=tip, attrs=_BAR)
        parts.append(bar)
        parts.append(svg_text(x + slot * 0.36, base - bar_h - 5, format_compact(count), MID))
        parts.append(svg_text(x + slot * 0.36, base + 16, str(k), f"{MID} {SMALL}"))
    parts.append(f'<line x1="{side:g}" x2="{width - side:g}" y1="{base:g}" y2="{base:g}" ')
    parts.append(f'stroke="{MUTED}"/>')
    parts.append(svg_text(width / 2, height - 6, axis_label, f"{MID} {SMALL}"))
    return "".join(parts) + "</svg>"
