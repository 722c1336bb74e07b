"""Building blocks of the SVG charts: colours, text attributes, the ``<svg>`` tag and marks.

Every helper escapes the text it is given, so callers pass plain, unescaped strings.
"""

from __future__ import annotations

from html import escape

#: Categorical colours, ordered so that neighbours stay distinguishable.
PALETTE = (
    "#2563eb", "#ea580c", "#059669", "#9333ea", "#dc2626",
    "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d",
)  # fmt: skip

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK, MUTED = "#1f2937", "#6b7280"  # colours of main and secondary text
# attributes of <text> elements: centred, right-aligned, bold, and small secondary text
MID, END, BOLD = 'text-anchor="middle"', 'text-anchor="end"', 'font-weight="600"'
SMALL = f'fill="{MUTED}" font-size="11"'


def svg_open(width: float, height: float, title: str) -> str:
    """Opening ``<svg>`` tag of a chart of that size, with ``title`` as its accessible name."""
    label = escape(title)
    return (
        f'<svg class="chart" viewBox="0 0 {width:g} {height:g}" width="{width:g}" '
        f'height="{height:g}" role="img" aria-label="{label}" font-family="{_FONT}" '
        f'font-size="13" fill="{INK}"><title>{label}</title>'
    )


def svg_text(x: float, y: float, content: str, attrs: str = "") -> str:
    """A ``<text>`` element at (x, y)."""
    return f'<text x="{x:.1f}" y="{y:.1f}" {attrs}>{escape(content)}</text>'


def svg_rect(x: float, y: float, w: float, h: float, *, fill: str, tip: str, attrs: str) -> str:
    """A ``<rect>`` element with ``tip`` as its tooltip."""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}" '
        f"{attrs}><title>{escape(tip)}</title></rect>"
    )


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: max(limit - 1, 1)].rstrip() + "…"
