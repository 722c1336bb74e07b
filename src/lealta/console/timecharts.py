"""Inline SVG charts over time for the reports: lines of a few series per day or week, each
point a link to the people behind it. Pure: values in, SVG text out.

Each series gets a colour of the report palette and a legend entry; the y axis starts at 0
with its top value written; the first, middle and last bucket dates are written under the x
axis. A point is a small circle with a tooltip (``2025-06-02: 1,204 opened``) wrapped in a
link when the series gives one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from lealta.report.drawing import END, MID, MUTED, PALETTE, SMALL, svg_open, svg_text
from lealta.report.format import format_compact, format_number


@dataclass(frozen=True)
class Point:
    """One bucket's value of a series: its label (a date), value and the link behind it."""

    label: str
    value: float
    href: str = ""


@dataclass(frozen=True)
class Series:
    """A named line."""

    name: str
    points: Sequence[Point]


def lines(
    series: Sequence[Series], *, title: str, width: int = 720, height: int = 220, unit: str = ""
) -> str:
    """The series as lines over the same buckets (oldest left), with a legend above."""
    left, right, top, bottom, legend = 8, 8, 34, 24, 18
    count = max((len(s.points) for s in series), default=0)
    most = max((p.value for s in series for p in s.points), default=0) or 1
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(count - 1, 1)

    def x(i: int) -> float:
        return left + (i * step if count > 1 else plot_w / 2)

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / most

    parts = [svg_open(width, height, title)]
    for fraction in (0.5, 1.0):  # light grid lines at half and at the top
        gy = y(most * fraction)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="#e5e7eb"/>'
        )
    base = top + plot_h
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="{MUTED}"/>'
    )
    parts.append(
        svg_text(width - right, top - 4, f"{format_compact(most)}{unit}", f"{SMALL} {END}")
    )
    parts += _legend(series, left, legend)
    for n, one in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        coords = " ".join(f"{x(i):.1f},{y(p.value):.1f}" for i, p in enumerate(one.points))
        if len(one.points) > 1:
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for i, point in enumerate(one.points):
            tip = f"{point.label}: {format_number(point.value)}{unit} {one.name}"
            dot = (
                f'<circle cx="{x(i):.1f}" cy="{y(point.value):.1f}" r="{4 if count <= 45 else 3}" '
                f'fill="{colour}"><title>{escape(tip)}</title></circle>'
            )
            if point.href:
                dot = f'<a href="{escape(point.href)}" aria-label="{escape(tip)}">{dot}</a>'
            parts.append(dot)
    parts += _dates(series, count, x, height)
    parts.append("</svg>")
    return "".join(parts)


def _legend(series: Sequence[Series], left: int, y: int) -> list[str]:
    parts, at = [], float(left)
    for n, one in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        parts.append(f'<rect x="{at:.1f}" y="{y - 9}" width="12" height="12" fill="{colour}"/>')
        parts.append(svg_text(at + 16, y + 1, one.name))
        at += 16 + 8 * len(one.name) + 18
    return parts


def _dates(
    series: Sequence[Series], count: int, x: Callable[[int], float], height: int
) -> list[str]:
    """The first, middle and last bucket labels under the x axis."""
    points = next((s.points for s in series if s.points), None)
    if not points:
        return []
    shown = sorted({0, (count - 1) // 2, count - 1} & set(range(len(points))))
    anchors = {0: "", count - 1: END}
    return [
        svg_text(x(i), height - 6, points[i].label, f"{SMALL} {anchors.get(i, MID)}") for i in shown
    ]
