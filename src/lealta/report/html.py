"""The HTML report of an RFM segmentation run: one self-contained page that works offline.

Everything the page needs is inline: CSS in a ``<style>`` element, charts as SVG, no script,
font or image from elsewhere. Every text that comes from the data is escaped, so a customer
id or a segment name cannot inject markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from lealta import __version__
from lealta.errors import MissingColumn
from lealta.report.clusters import cluster_section
from lealta.report.markup import escaped, section
from lealta.report.sections import (
    SEGMENT_COLUMNS,
    header,
    how_to_read,
    key_figures,
    rf_heatmaps,
    score_distributions,
    segment_section,
)
from lealta.report.style import CSS

_CUSTOMER_COLUMNS = ("revenue", "orders", "r_score", "f_score", "m_score")
_EMPTY = (
    '<p class="empty">There are no customers to report: no rows remained after reading and '
    "cleaning the input. The facts above say how many rows were read and why they were "
    "dropped.</p>"
)


def render_report(
    customers: pd.DataFrame,
    segments: pd.DataFrame,
    *,
    title: str,
    facts: Mapping[str, str],
    bins: int = 5,
    clusters: pd.DataFrame | None = None,
) -> str:
    """Render the report of one segmentation run as a self-contained HTML document.

    Parameters
    ----------
    customers
        One row per customer: ``revenue``, ``orders``, ``r_score``, ``f_score``, ``m_score``
        are required; ``recency``, ``monetary``, ``p_score``, ``customer_id``, ``cluster`` and
        ``cluster_name`` are used when present; other columns are ignored.
    segments
        Per-segment summary, in display order: ``segment``, ``customers``, ``orders``,
        ``revenue``, ``avg_order_value``, ``customer_share``, ``revenue_share`` (fractions).
    title
        Title of the page.
    facts
        Ordered label/value pairs shown at the top (source, dates, definitions, cleaning).
        A label containing "warning" is highlighted.
    bins
        Number of score levels; scores run from 1 to ``bins``.
    clusters
        Optional per-cluster profile: ``cluster``, ``name``, ``customers``, ``revenue_share``,
        ``mean_recency``, ``mean_frequency``, ``mean_monetary`` and optional ``mean_payment``.
        Without it, a profile is derived from the ``cluster`` column when there is one.

    Returns
    -------
    str
        The HTML document.

    Raises
    ------
    MissingColumn
        If ``customers`` has rows but lacks a required column, or ``segments`` does.
    """
    if bins < 1:
        raise ValueError("bins must be at least 1")
    parts = [header(title, facts)]
    if len(customers) == 0:
        parts.append(section("No customers", _EMPTY))
    else:
        _require(customers, _CUSTOMER_COLUMNS, "customers")
        _require(segments, SEGMENT_COLUMNS, "segments")
        parts += [
            key_figures(customers),
            rf_heatmaps(customers, bins),
            segment_section(segments),
            score_distributions(customers, bins),
            cluster_section(customers, clusters),
        ]
    parts.append(how_to_read(bins, "p_score" in customers.columns))
    return _page(title, "".join(parts))


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumn(f"{name} lacks column(s): {', '.join(missing)}", field=missing[0])


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escaped(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n<footer>Made with Lealta {escaped(__version__)}. This file is self-contained "
        "and reads offline.</footer>\n</main>\n</body>\n</html>\n"
    )
