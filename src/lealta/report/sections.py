"""The report's sections: facts, key figures, R/F heat maps, segments, scores, reading guide.

Each function returns one finished piece of HTML; the cluster section is in
:mod:`lealta.report.clusters`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from lealta.report.format import Formatter, format_compact, format_number, format_percent
from lealta.report.markup import (
    escaped,
    figure_row,
    number_cell,
    numeric,
    numeric_column,
    plain_text,
    section,
    table_head,
    valid_scores,
)
from lealta.report.svg import bar_chart, heatmap, score_histogram

#: Columns the per-segment summary must have, the segment's name first.
SEGMENT_COLUMNS = (
    "segment", "customers", "orders", "revenue", "avg_order_value", "customer_share",
    "revenue_share",
)  # fmt: skip
_SEGMENT_TABLE: tuple[tuple[str, str, Formatter], ...] = (
    ("customers", "Customers", format_number),
    ("customer_share", "Share of customers", format_percent),
    ("orders", "Orders", format_number),
    ("revenue", "Revenue", lambda v: format_number(v, 2)),
    ("revenue_share", "Share of revenue", format_percent),
    ("avg_order_value", "Average order value", lambda v: format_number(v, 2)),
)
_SCORES = (
    ("r_score", "Recency", "R"), ("f_score", "Frequency", "F"),
    ("m_score", "Monetary", "M"), ("p_score", "Payment", "P"),
)  # fmt: skip


def header(title: str, facts: Mapping[str, str], kicker: str = "RFM segmentation report") -> str:
    """The page's title under its kind (``kicker``), and the facts table when there are facts."""
    rows = "".join(
        f"<tr{' class=warn' if 'warning' in key.lower() else ''}>"
        f'<th scope="row">{escaped(key)}</th><td>{escaped(value)}</td></tr>\n'
        for key, value in facts.items()
    )
    table = f'<section><table class="facts"><tbody>\n{rows}</tbody></table></section>\n'
    return (
        f'<header>\n<p class="kicker">{escaped(kicker)}</p>\n<h1>{escaped(title)}</h1>\n'
        f"</header>\n{table if rows else ''}"
    )


def key_figures(customers: pd.DataFrame) -> str:
    """Cards with the number of customers and orders, the revenue and average order value."""
    orders = float(np.nansum(numeric(customers["orders"])))
    revenue = float(np.nansum(numeric(customers["revenue"])))
    figures = (
        ("Customers", format_number(len(customers))),
        ("Orders", format_number(orders)),
        ("Revenue", format_number(revenue, 2)),
        ("Average order value", format_number(revenue / orders if orders else math.nan, 2)),
    )
    cards = "".join(
        f'<div class="card"><span class="value">{escaped(value)}</span>'
        f'<span class="label">{escaped(label)}</span></div>'
        for label, value in figures
    )
    return f'<div class="cards" id="key-figures">{cards}</div>\n'


def rf_heatmaps(customers: pd.DataFrame, bins: int) -> str:
    """Customers and revenue by recency and frequency score, as two heat maps."""
    r, f = valid_scores(customers, "r_score", bins), valid_scores(customers, "f_score", bins)
    valid = np.isfinite(r) & np.isfinite(f)
    cells = (bins - r[valid].astype(int), f[valid].astype(int) - 1)
    counts, revenue = np.zeros((bins, bins)), np.zeros((bins, bins))
    np.add.at(counts, cells, 1.0)
    np.add.at(revenue, cells, np.nan_to_num(numeric(customers["revenue"])[valid]))
    count_map = _rf_map(counts, "Customers by R and F score", format_number, format_number)
    revenue_map = _rf_map(
        revenue, "Revenue by R and F score", lambda v: format_number(v, 2), format_compact
    )
    lede = (
        f"Each cell holds the customers with one recency score and one frequency score, 1 to "
        f"{bins}. Recency runs up the side and frequency along the bottom, so customers who "
        "ordered recently and often sit at the top right."
    )
    left_out = int(len(customers) - valid.sum())
    if left_out:
        lede += f" {left_out:,} customers without a valid R or F score are not shown."
    content = figure_row(("Customers", count_map), ("Revenue", revenue_map))
    return section("Recency and frequency", content, lede)


def _rf_map(grid: npt.NDArray[np.float64], title: str, exact: Formatter, short: Formatter) -> str:
    bins = len(grid)
    return heatmap(
        grid.tolist(),
        row_labels=[str(b) for b in range(bins, 0, -1)],
        col_labels=[str(b) for b in range(1, bins + 1)],
        row_title="Recency score (R)",
        col_title="Frequency score (F)",
        title=title,
        value_format=exact,
        label_format=short,
    )


def segment_section(segments: pd.DataFrame) -> str:
    """Customers and revenue per segment, as bar charts and a table."""
    names = [plain_text(v) for v in segments["segment"]]
    if not names:
        return section("Segments", '<p class="empty">No segment summary was given.</p>')
    cols = {c: numeric_column(segments, c) for c in SEGMENT_COLUMNS[1:]}
    by_customers = bar_chart(
        names,
        cols["customers"].tolist(),
        title="Customers per segment",
        value_format=lambda v: f"{format_number(v)} customer{'' if v == 1 else 's'}",
        notes=[format_percent(s) if math.isfinite(s) else "" for s in cols["customer_share"]],
    )
    by_revenue = bar_chart(
        names,
        cols["revenue"].tolist(),
        title="Revenue per segment",
        value_format=format_compact,
        notes=[
            f"{format_percent(s)} of revenue" if math.isfinite(s) else ""
            for s in cols["revenue_share"]
        ],
    )
    charts = figure_row(("Customers per segment", by_customers), ("Revenue", by_revenue))
    rows = "".join(
        f'<tr><th scope="row" class="name">{escaped(name)}</th>'
        + "".join(number_cell(fmt(cols[column][i])) for column, _, fmt in _SEGMENT_TABLE)
        + "</tr>\n"
        for i, name in enumerate(names)
    )
    head = table_head(["Segment", *(heading for _, heading, _ in _SEGMENT_TABLE)])
    lede = "Size and revenue of each segment, in the order the segment definitions list them."
    return section("Segments", f"{charts}<table>{head}<tbody>{rows}</tbody></table>", lede)


def score_distributions(customers: pd.DataFrame, bins: int) -> str:
    """One histogram per score column present: how many customers got each score."""
    figures = []
    for column, name, letter in _SCORES:
        if column not in customers.columns:
            continue
        scores = valid_scores(customers, column, bins)
        valid = scores[np.isfinite(scores)].astype(int)
        counts = [int(c) for c in np.bincount(valid - 1, minlength=bins)]
        chart = score_histogram(
            counts, title=f"Customers per {name.lower()} score", axis_label=f"{letter} score"
        )
        figures.append(f"<figure><h3>{escaped(name)} ({letter})</h3>{chart}</figure>")
    lede = "How many customers received each score. Hover over a bar for its share."
    return section("Score distributions", f'<div class="dists">{"".join(figures)}</div>', lede)


def how_to_read(bins: int, has_payment: bool) -> str:
    """The closing guide: what the scores, the RFM code and the shares mean."""
    dims = (
        "R for recency (how recently the customer last ordered), F for frequency (how many "
        "orders) and M for monetary value (how much they spent)"
    )
    if has_payment:
        dims = dims.replace(" and M", ", M") + ", and P for payment"
    example = f"{bins}{bins - 1}{bins}"
    code = f"The RFM code writes the scores side by side: {example} means R {bins}, F {bins - 1}, "
    items = [
        f"Each customer gets a score from 1 to {bins} on {dims}. {bins} is the best score: the "
        "most recent, the most frequent, the highest spending. Where the definitions at the "
        "top of this report say otherwise, they take precedence.",
        *([f"{code}M {bins}."] if 2 <= bins <= 9 else []),
        "Scores compare customers with each other in this run; they are not absolute grades.",
        "Shares are fractions of all customers or of all revenue in this run; rounded "
        "percentages may not add up to exactly 100%.",
        "Hover over a cell, bar or point to see its exact value.",
    ]
    body = "".join(f"<li>{escaped(item)}</li>" for item in items)
    return section("How to read this", f'<ul class="read">{body}</ul>')
