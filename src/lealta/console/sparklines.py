"""Small inline SVG charts of one person's history: the lead score as a step line over time,
and the lifecycle stages as labelled steps with their dates. Pure: values and ``now`` come in,
SVG text goes out (every text escaped by the drawing helpers).

Each point carries a ``<title>`` (date and value) that browsers show as a tooltip and screen
readers read; the chart as a whole is named by ``title``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from lealta.report.drawing import (
    BOLD,
    END,
    MUTED,
    PALETTE,
    SMALL,
    svg_open,
    svg_text,
    truncate,
)
from lealta.report.format import format_number

LINE = PALETTE[0]
STAGE = PALETTE[2]


@dataclass(frozen=True)
class Point:
    """A value from ``at`` on; ``note`` is added to its tooltip (e.g. the rule that gave it)."""

    at: dt.datetime
    value: float
    note: str = ""


@dataclass(frozen=True)
class Step:
    """A stage reached at ``at``; ``note`` is added to its tooltip."""

    at: dt.datetime
    stage: str
    note: str = ""


def short_date(moment: dt.datetime, now: dt.datetime) -> str:
    """``3 Nov`` in the year of ``now``, ``3 Nov 2024`` in any other (UTC)."""
    day = _utc(moment)
    text = f"{day.day} {day:%b}"
    return text if day.year == _utc(now).year else f"{text} {day.year}"


def long_date(moment: dt.datetime) -> str:
    """``2025-11-03 14:05 UTC``: what a tooltip says."""
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def score_line(
    points: Sequence[Point],
    *,
    now: dt.datetime,
    title: str,
    current: float | None = None,
    width: int = 480,
    height: int = 130,
) -> str:
    """A step line of the score from its first change until ``now``; each change a dot.

    The score holds its value until the next change (a step), and the last value runs on to
    ``now``; a ``current`` score that differs (points fade with time) ends the line with a
    dotted drop to a hollow dot. The y axis starts at 0 (or lower, for a negative score).
    Empty without points.
    """
    if not points:
        return ""
    left, right, top, bottom = 36, 8, 10, 22
    start = _utc(points[0].at)
    end = max(_utc(now), _utc(points[-1].at))
    span = (end - start).total_seconds() or 1.0
    values = [p.value for p in points]
    faded = current is not None and abs(current - values[-1]) >= 0.05
    if faded and current is not None:
        values.append(current)
    low = min(0.0, *values)
    high = max(*values, low + 1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(moment: dt.datetime) -> float:
        return left + plot_w * (_utc(moment) - start).total_seconds() / span

    def y(value: float) -> float:
        return top + plot_h * (high - value) / (high - low)

    path = [f"M{x(points[0].at):.1f},{y(points[0].value):.1f}"]
    for point in points[1:]:
        path.append(f"H{x(point.at):.1f}V{y(point.value):.1f}")
    path.append(f"H{left + plot_w:.1f}")
    parts = [
        svg_open(width, height, title),
        _line(left, top + plot_h, left + plot_w, top + plot_h),
        svg_text(left - 6, top + 4, format_number(high), f"{SMALL} {END}"),
        svg_text(left - 6, top + plot_h + 4, format_number(low), f"{SMALL} {END}"),
        f'<path d="{"".join(path)}" fill="none" stroke="{LINE}" stroke-width="2"/>',
    ]
    for point in points:
        tip = f"{long_date(point.at)}: {format_number(point.value, 1)}"
        tip += f" ({point.note})" if point.note else ""
        parts.append(
            f'<circle cx="{x(point.at):.1f}" cy="{y(point.value):.1f}" r="3.5" fill="{LINE}" '
            f'stroke="#fff" stroke-width="1"><title>{escape(tip)}</title></circle>'
        )
    if faded and current is not None:
        end_x, last_y = left + plot_w, y(points[-1].value)
        parts.append(_line(end_x, last_y, end_x, y(current), stroke=LINE, dash=True))
        tip = f"now: {format_number(current, 1)} (points fade with time)"
        parts.append(
            f'<circle cx="{end_x:.1f}" cy="{y(current):.1f}" r="3.5" fill="#fff" '
            f'stroke="{LINE}" stroke-width="2"><title>{escape(tip)}</title></circle>'
        )
    parts.append(svg_text(left, height - 5, short_date(start, now), SMALL))
    parts.append(svg_text(left + plot_w, height - 5, "now", f"{SMALL} {END}"))
    parts.append("</svg>")
    return "".join(parts)


def stage_path(
    steps: Sequence[Step],
    *,
    now: dt.datetime,
    title: str,
    column: int = 112,
    gap: int = 20,
) -> str:
    """The stages reached, oldest left, as a staircase of labelled steps with their dates.

    Steps are evenly spaced (labels never collide however close the dates); each stage keeps
    its own height, the first one seen lowest, so going back to a stage goes back down.
    Empty without steps.
    """
    if not steps:
        return ""
    levels: list[str] = []
    for step in steps:
        if step.stage not in levels:
            levels.append(step.stage)
    top, bottom = 18, 20
    width = column * len(steps) + 8
    height = top + gap * (len(levels) - 1) + bottom + 14

    def y(stage: str) -> float:
        return top + 14 + gap * (len(levels) - 1 - levels.index(stage))

    parts = [svg_open(width, height, title)]
    for i, step in enumerate(steps):
        x0, level = 4 + i * column, y(step.stage)
        x1 = x0 + column - 10
        if i:
            parts.append(_line(x0 - 10, y(steps[i - 1].stage), x0, level, stroke=STAGE, dash=True))
        parts.append(_line(x0, level, x1, level, stroke=STAGE, weight=3))
        tip = f"{step.stage} from {long_date(step.at)}" + (f" ({step.note})" if step.note else "")
        parts.append(
            f'<circle cx="{x0 + 4:.1f}" cy="{level:.1f}" r="4" fill="{STAGE}">'
            f"<title>{escape(tip)}</title></circle>"
        )
        parts.append(svg_text(x0, level - 7, truncate(step.stage, 14), BOLD))
        parts.append(svg_text(x0, level + 15, short_date(step.at, now), SMALL))
    parts.append("</svg>")
    return "".join(parts)


def _line(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    *,
    stroke: str = MUTED,
    weight: float = 1,
    dash: bool = False,
) -> str:
    dashes = ' stroke-dasharray="3 3"' if dash else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
        f'stroke-width="{weight:g}"{dashes}/>'
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
