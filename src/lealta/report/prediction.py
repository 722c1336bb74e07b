"""The HTML report of a predicted-customer-value run (``lealta clv --report``).

Same page and charts as the RFM report (:mod:`lealta.report.html`): self-contained, inline
SVG, every text from the data escaped. Sections: key figures, fitted parameters, P(alive) by
frequency and recency, expected purchases, the distribution of predicted value, churn bands,
top customers and, with ``--holdout``, the calibration/holdout check.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from lealta.prediction.bands import BANDS
from lealta.report.drawing import MID, MUTED, PALETTE, SMALL, svg_open, svg_text
from lealta.report.format import format_compact, format_number, format_percent
from lealta.report.html import _page
from lealta.report.markup import escaped, figure_row, number_cell, section, table_head
from lealta.report.sections import header
from lealta.report.svg import bar_chart, heatmap

TOP = 20
FREQUENCY_BINS = ("0", "1", "2", "3", "4", "5", "6", "7+")
RECENCY_ROWS = 6


def render_clv_report(run: Any, *, source: str) -> str:
    """The report of one :class:`~lealta.prediction.pipeline.CLVRun` as an HTML document."""
    from lealta.cli.clv_render import definitions

    customers = run.customers
    facts = {
        "Source": source,
        "Last day observed": run.as_of.isoformat(),
        "Rows read": f"{run.cleaning.rows_read:,}",
        "Rows kept": f"{run.cleaning.rows_kept:,}",
        "Definitions": "; ".join(definitions(run)),
    }
    parts = [
        header(f"Predicted customer value — {source}", facts, "Predicted customer value report"),
        key_figures(customers, run.options.horizon_days),
        parameters_section(run.params),
        alive_section(customers, run.options.period),
        value_section(customers, run.options.horizon_days),
        top_customers(customers),
    ]
    if run.holdout is not None:
        parts.append(holdout_section(run.holdout, run.options.period))
    parts.append(reading_guide())
    return _page(f"Predicted customer value — {source}", "".join(parts))


def key_figures(customers: pd.DataFrame, horizon_days: int) -> str:
    figures = (
        ("Customers", format_number(len(customers))),
        (f"Expected purchases, next {horizon_days} days",
         format_number(float(customers["expected_purchases"].sum()))),
        (f"Predicted value, next {horizon_days} days",
         format_number(float(customers["clv"].sum()), 2)),
        ("High churn risk", format_number(int((customers["churn_risk"] == "high").sum()))),
    )  # fmt: skip
    cards = "".join(
        f'<div class="card"><span class="value">{escaped(value)}</span>'
        f'<span class="label">{escaped(label)}</span></div>'
        for label, value in figures
    )
    return f'<div class="cards" id="key-figures">{cards}</div>\n'


def parameters_section(params: Any) -> str:
    rows = []
    for model, label in (("bgnbd", "BG/NBD"), ("gamma_gamma", "Gamma-Gamma")):
        errors = params.errors.get(model, {})
        for name, value in getattr(params, model).items():
            error = errors.get(name, math.nan)
            rows.append(
                f'<tr><th scope="row" class="name">{escaped(label)} {escaped(name)}</th>'
                f"{number_cell(format_number(value, 4))}{number_cell(format_number(error, 4))}"
                "</tr>"
            )
    table = (
        f"<table>{table_head(['Parameter', 'Estimate', 'Standard error'])}"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    lede = (
        "Maximum likelihood estimates under the papers' names (BG/NBD: purchase rate shape r "
        "and scale alpha, dropout a and b; Gamma-Gamma: p, q, gamma), with asymptotic "
        "standard errors. A dash: given with --params, not fitted here."
    )
    return section("Fitted parameters", table, lede)


def _frequency_bin(frequency: pd.Series) -> Any:
    return np.minimum(frequency.to_numpy(dtype=int), len(FREQUENCY_BINS) - 1)


def alive_section(customers: pd.DataFrame, period: str) -> str:
    """Mean P(alive) by repeat purchases and by age at last purchase; expected purchases."""
    freq = _frequency_bin(customers["frequency"])
    recency = customers["recency"].to_numpy(dtype=float)
    top = float(customers["T"].max()) or 1.0
    edges = np.linspace(0.0, top, RECENCY_ROWS + 1)
    row = np.clip(np.digitize(recency, edges[1:-1]), 0, RECENCY_ROWS - 1)
    sums = np.zeros((RECENCY_ROWS, len(FREQUENCY_BINS)))
    counts = np.zeros_like(sums)
    np.add.at(sums, (row, freq), customers["p_alive"].to_numpy(dtype=float))
    np.add.at(counts, (row, freq), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / counts, np.nan)
    labels = [f"{edges[k]:.0f}-{edges[k + 1]:.0f}" for k in range(RECENCY_ROWS)]
    matrix = heatmap(
        means[::-1].tolist(),
        row_labels=labels[::-1],
        col_labels=list(FREQUENCY_BINS),
        row_title=f"Age at last purchase ({period}s)",
        col_title="Repeat purchases",
        title="Mean P(alive) by repeat purchases and age at last purchase",
        value_format=lambda v: format_number(v, 3),
        label_format=lambda v: format_number(v, 2),
        cell=52.0,
    )
    expected = pd.Series(customers["expected_purchases"].to_numpy()).groupby(freq).mean()
    bars = bar_chart(
        [FREQUENCY_BINS[k] + " repeat" for k in expected.index],
        expected.tolist(),
        title="Mean expected purchases by repeat purchases so far",
        value_format=lambda v: format_number(v, 2),
        label_width=110.0,
    )
    lede = (
        "P(alive) is the probability that a customer has not churned. Customers who bought "
        "often and recently (top right) are the most likely alive; frequent buyers who have "
        "gone quiet for long (bottom right) the least. One-time buyers (0) are 1 by the "
        "BG/NBD's definition: they are told apart by their expected purchases instead."
    )
    content = figure_row(("P(alive)", matrix), ("Expected purchases", bars))
    return section("Who is still a customer", content, lede)


def value_section(customers: pd.DataFrame, horizon_days: int) -> str:
    """Share of predicted value per tenth of customers, and customers per churn band."""
    values = np.sort(customers["clv"].to_numpy(dtype=float))[::-1]
    total = float(values.sum())
    tenths = np.array_split(values, 10) if len(values) >= 10 else [values]
    shares = [float(part.sum()) / total if total > 0 else 0.0 for part in tenths]
    labels = [f"Top {10 * (k + 1)}%" if k == 0 else f"{10 * k}-{10 * (k + 1)}%"
              for k in range(len(tenths))]  # fmt: skip
    distribution = bar_chart(
        labels,
        shares,
        title="Share of predicted value per tenth of customers",
        value_format=format_percent,
        notes=[format_compact(float(part.sum())) for part in tenths],
        label_width=90.0,
    )
    counts = customers["churn_risk"].value_counts()
    bands = bar_chart(
        list(BANDS),
        [float(counts.get(band, 0)) for band in BANDS],
        title="Customers per churn-risk band",
        notes=[
            format_compact(float(customers.loc[customers["churn_risk"] == b, "clv"].sum()))
            for b in BANDS
        ],
        label_width=80.0,
    )
    lede = (
        f"Predicted value is the expected spend over the next {horizon_days} days, "
        "discounted. Customers are sorted by it and cut into tenths; the note after each bar "
        "is the tenth's value. Churn bands: low P(alive) ≥ 0.7, medium 0.3-0.7, high < 0.3, "
        "new = one purchase only (the note is the band's predicted value)."
    )
    content = figure_row(("Value distribution", distribution), ("Churn risk", bands))
    return section("What customers are worth", content, lede)


def top_customers(customers: pd.DataFrame) -> str:
    top = customers.nlargest(TOP, "clv")
    heads = ["Customer", "Repeat purchases", "P(alive)", "Expected purchases",
             "Expected spend", "Predicted value", "Churn risk"]  # fmt: skip
    rows = "".join(
        f'<tr><th scope="row" class="name">{escaped(r["customer_id"])}</th>'
        + "".join(
            number_cell(format_number(float(r[column]), decimals))
            for column, decimals in (
                ("frequency", 0),
                ("p_alive", 3),
                ("expected_purchases", 2),
                ("expected_spend", 2),
                ("clv", 2),
            )
        )
        + f"<td>{escaped(r['churn_risk'])}</td></tr>"
        for r in top.to_dict("records")
    )
    table = f"<table>{table_head(heads)}<tbody>{rows}</tbody></table>"
    return section(f"Top {len(top)} customers by predicted value", table)


def holdout_section(check: Any, period: str) -> str:
    """The calibration/holdout comparison: by calibration purchases and over time."""
    table = check.by_frequency
    rows = "".join(
        f'<tr><th scope="row" class="name">{escaped(r.frequency)}</th>'
        f"{number_cell(format_number(r.customers))}{number_cell(format_number(r.actual, 3))}"
        f"{number_cell(format_number(r.predicted, 3))}</tr>"
        for r in table.itertuples(index=False)
    )
    heads = ["Calibration repeat purchases", "Customers", "Actual", "Predicted"]
    by_frequency = f"<table>{table_head(heads)}<tbody>{rows}</tbody></table>"
    curve = line_chart(
        check.tracking["period"].tolist(),
        {"Actual": check.tracking["actual"].tolist(),
         "Predicted": check.tracking["predicted"].tolist()},
        title="Cumulative repeat purchases, actual and predicted",
        x_title=f"{period.capitalize()}s since the first purchase in the data",
        marker=len(check.tracking) - check.holdout_days / (7 if period == "week" else 1),
    )  # fmt: skip
    lede = (
        f"The models were fitted on the calibration period only and predict the "
        f"{check.holdout_days} days after it. Holdout repeat purchases: "
        f"{check.actual:,.0f} actual, {check.predicted:,.0f} predicted "
        f"({check.aggregate_error:+.1%}); mean absolute error per customer {check.mae:.3f}. "
        "The table gives mean holdout purchases per customer by repeat purchases in "
        "calibration; the curve the running total over time (the dashed line is the "
        "calibration's end)."
    )
    content = by_frequency + figure_row(("Over time", curve))
    return section("Calibration and holdout", content, lede)


def line_chart(
    xs: list[float], series: dict[str, list[float]], *, title: str, x_title: str, marker: float
) -> str:
    """Lines over a shared x axis, with a dashed vertical marker at ``marker``."""
    width, height, left, bottom, top = 560.0, 280.0, 56.0, 40.0, 12.0
    x0, x1 = min(xs), max(xs)
    high = max((max(v) for v in series.values() if v), default=1.0) or 1.0

    def px(x: float) -> float:
        return left + (x - x0) / ((x1 - x0) or 1.0) * (width - left - 12)

    def py(y: float) -> float:
        return height - bottom - y / high * (height - bottom - top)

    parts = [svg_open(width, height + 24, title)]
    for k in range(5):
        value = high * k / 4
        parts.append(
            svg_text(left - 6, py(value) + 4, format_compact(value), f'text-anchor="end" {SMALL}')
        )
        parts.append(
            f'<line x1="{left}" x2="{width - 12}" y1="{py(value):.1f}" '
            f'y2="{py(value):.1f}" stroke="#e5e7eb"/>'
        )
    parts.append(
        f'<line x1="{px(marker):.1f}" x2="{px(marker):.1f}" y1="{top}" y2="{height - bottom}" '
        f'stroke="{MUTED}" stroke-dasharray="4 3"/>'
    )
    for i, (name, ys) in enumerate(series.items()):
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
            f"<title>{escaped(name)}</title></polyline>"
        )
        parts.append(svg_text(left + 10 + 110 * i, height + 16, f"— {name}", f'fill="{colour}"'))
    parts.append(svg_text(left + (width - left) / 2, height - 8, x_title, MID))
    for x in (x0, x1):
        parts.append(svg_text(px(x), height - bottom + 14, format_number(x), f"{MID} {SMALL}"))
    return "".join(parts) + "</svg>"


def reading_guide() -> str:
    text = (
        "<p>A <b>purchase</b> is a day with orders. <b>Repeat purchases</b> are those after "
        "the first; <b>age at last purchase</b> (recency) and <b>age</b> (T) count from the "
        "first purchase. The BG/NBD model (Fader, Hardie &amp; Lee 2005) describes purchases "
        "and churn, the Gamma-Gamma model the value of a purchase; both are fitted by "
        "maximum likelihood with pymc-marketing. <b>P(alive)</b>: the probability that the "
        "customer has not churned. <b>Expected purchases</b>: over the horizon. "
        "<b>Expected spend</b>: of one future purchase. <b>Predicted value</b>: expected "
        "purchases times expected spend over the horizon in 30-day steps, discounted.</p>"
    )
    return section("How to read this report", text)
