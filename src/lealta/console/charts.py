"""Inline SVG charts of the console: bars that link to the people behind them. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from lealta.report.drawing import END, MUTED, PALETTE, SMALL, svg_open, svg_rect, svg_text
from lealta.report.format import format_compact, format_number


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    href: str = ""
    tip: str = ""


def _linked(mark: str, href: str) -> str:
    return f'<a href="{escape(href)}">{mark}</a>' if href else mark


def funnel(bars: Sequence[Bar], *, title: str, width: int = 560) -> str:
    """Horizontal bars, one row each, widest first in the order given (a stage funnel)."""
    row, label_w, value_w = 30, 130, 70
    height = row * max(len(bars), 1) + 8
    most = max((bar.value for bar in bars), default=0) or 1
    span = width - label_w - value_w
    parts = [svg_open(width, height, title)]
    for i, bar in enumerate(bars):
        y = 4 + i * row
        w = max(span * bar.value / most, 2 if bar.value else 0)
        x = label_w + (span - w) / 2
        tip = bar.tip or f"{bar.label}: {format_number(bar.value)}"
        mark = svg_rect(x, y, w, row - 8, fill=PALETTE[0], tip=tip, attrs='rx="3"')
        parts.append(svg_text(label_w - 8, y + row / 2, bar.label, END))
        parts.append(_linked(mark, bar.href))
        parts.append(svg_text(width - 4, y + row / 2, format_number(bar.value), END))
    parts.append("</svg>")
    return "".join(parts)


def columns(bars: Sequence[Bar], *, title: str, width: int = 560, height: int = 140) -> str:
    """Vertical columns over time (oldest left), the first and last labels shown below."""
    bottom, top = 20, 14
    most = max((bar.value for bar in bars), default=0) or 1
    step = width / max(len(bars), 1)
    parts = [svg_open(width, height, title)]
    plot = height - bottom - top
    for i, bar in enumerate(bars):
        h = plot * bar.value / most
        mark = svg_rect(
            i * step + 1,
            top + plot - h,
            max(step - 2, 1),
            max(h, 0.5),
            fill=PALETTE[2],
            tip=bar.tip or f"{bar.label}: {format_number(bar.value)}",
            attrs="",
        )
        parts.append(_linked(mark, bar.href))
    parts.append(
        f'<line x1="0" x2="{width}" y1="{top + plot}" y2="{top + plot}" stroke="{MUTED}"/>'
    )
    if bars:
        parts.append(svg_text(0, height - 4, bars[0].label, SMALL))
        parts.append(svg_text(width, height - 4, bars[-1].label, f"{SMALL} {END}"))
        parts.append(svg_text(width, 11, f"max {format_compact(most)}", f"{SMALL} {END}"))
    parts.append("</svg>")
    return "".join(parts)
