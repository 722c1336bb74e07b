"""The HTML report of an RFM segmentation run: one self-contained page that works offline.

Everything the page needs is inline: CSS in a ``<style>`` element, charts as SVG, no script,
font or image from elsewhere. Every text that comes from the data is escaped, so a customer
id or a segment name cannot inject markup.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

import numpy as np
import numpy.typing as npt
import pandas as pd

from lealta import __version__
from lealta.errors import MissingColumn
from lealta.report import svg
from lealta.report.svg import DASH, format_compact, format_number, format_percent

_CUSTOMER_COLUMNS = ("revenue", "orders", "r_score", "f_score", "m_score")
_SEGMENT_COLUMNS = (
    "segment", "customers", "orders", "revenue", "avg_order_value", "customer_share",
    "revenue_share",
)  # fmt: skip
_SEGMENT_TABLE: tuple[tuple[str, str, svg.Formatter], ...] = (
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
_MEAN_SOURCES = ("recency", "frequency", "monetary", "payment")
_MEANS = (
    ("mean_recency", "Mean recency (days)", 1), ("mean_frequency", "Mean frequency", 1),
    ("mean_monetary", "Mean monetary", 2), ("mean_payment", "Mean payment", 2),
)  # fmt: skip
_CSS = """
:root{--ink:#1f2937;--muted:#6b7280;--rule:#e5e7eb;--bg:#f5f6f8;--accent:#3b6fd4}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,
-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1140px;margin:0 auto;padding:32px 24px 40px}
h1{font-size:28px;line-height:1.2;margin:4px 0 20px;overflow-wrap:anywhere}
h2{font-size:19px;margin:0 0 4px}
h3{font-size:14px;margin:0 0 8px;color:var(--muted);font-weight:600}
.kicker{margin:0;color:var(--accent);font-weight:600;font-size:12px;letter-spacing:.08em;text-transform:uppercase}
section{background:#fff;border:1px solid var(--rule);border-radius:10px;padding:20px 24px;
margin:0 0 20px;overflow-x:auto}
.lede{color:var(--muted);margin:0 0 18px;max-width:80ch}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:14px}
th,td{padding:7px 10px;border-bottom:1px solid var(--rule);text-align:left;vertical-align:top}
thead th{font-size:12px;font-weight:600;color:var(--muted);border-bottom:2px solid var(--rule)}
tbody tr:last-child td,tbody tr:last-child th{border-bottom:none}
.num{text-align:right;white-space:nowrap}.name{overflow-wrap:anywhere;min-width:12ch}
.facts th{width:26%;color:var(--muted);font-weight:500}
.facts td{white-space:pre-line;overflow-wrap:anywhere}
.facts tr.warn th,.facts tr.warn td{color:#92400e;background:#fffbeb}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:16px;
margin:0 0 20px}
.card{background:#fff;border:1px solid var(--rule);border-radius:10px;padding:16px 20px}
.card .value{display:block;font-size:26px;font-weight:650;font-variant-numeric:tabular-nums}
.card .label{color:var(--muted);font-size:13px}
.row{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(400px,100%),1fr));gap:28px;margin-bottom:20px}
.dists{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(230px,100%),1fr));gap:20px}
figure{margin:0}figure.wide{margin-top:24px}svg.chart{display:block;max-width:100%;height:auto}
.swatch{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:8px}
.empty{font-size:16px;margin:0}ul.read{margin:0;padding-left:20px;max-width:85ch}
ul.read li{margin:0 0 6px}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:8px}
@media print{body{background:#fff}section,.card{break-inside:avoid}}
"""


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
    parts = [_header(title, facts)]
    if len(customers) == 0:
        parts.append(_section("No customers", _EMPTY))
    else:
        _require(customers, _CUSTOMER_COLUMNS, "customers")
        _require(segments, _SEGMENT_COLUMNS, "segments")
        parts += [
            _key_figures(customers),
            _heatmaps(customers, bins),
            _segments(segments),
            _distributions(customers, bins),
            _clusters(customers, clusters),
        ]
    parts.append(_how_to_read(bins, "p_score" in customers.columns))
    return _page(title, "".join(parts))


_EMPTY = (
    '<p class="empty">There are no customers to report: no rows remained after reading and '
    "cleaning the input. The facts above say how many rows were read and why they were "
    "dropped.</p>"
)


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumn(f"{name} lacks column(s): {', '.join(missing)}", field=missing[0])


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _filled(value: object) -> bool:
    return not _missing(value) and bool(str(value).strip())


def _plain(value: object) -> str:
    """Unescaped text of a value, for the SVG helpers, which escape it themselves."""
    return DASH if _missing(value) else str(value)


def _e(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute; missing values become a dash."""
    return DASH if _missing(value) else escape(str(value))


def _num(values: pd.Series) -> npt.NDArray[np.float64]:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _scores(frame: pd.DataFrame, column: str, bins: int) -> npt.NDArray[np.float64]:
    """Score column as floats, with NaN wherever the value is not a whole score in 1..bins."""
    values = _num(frame[column])
    return np.where(np.isin(values, np.arange(1, bins + 1)), values, np.nan)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n<footer>Made with Lealta {_e(__version__)}. This file is self-contained "
        "and reads offline.</footer>\n</main>\n</body>\n</html>\n"
    )


def _section(heading: str, content: str, lede: str = "") -> str:
    intro = f'<p class="lede">{_e(lede)}</p>' if lede else ""
    return f"<section>\n<h2>{_e(heading)}</h2>{intro}\n{content}\n</section>\n"


def _header(title: str, facts: Mapping[str, str]) -> str:
    rows = "".join(
        f"<tr{' class=warn' if 'warning' in key.lower() else ''}>"
        f'<th scope="row">{_e(key)}</th><td>{_e(value)}</td></tr>\n'
        for key, value in facts.items()
    )
    table = f'<section><table class="facts"><tbody>\n{rows}</tbody></table></section>\n'
    return (
        f'<header>\n<p class="kicker">RFM segmentation report</p>\n<h1>{_e(title)}</h1>\n'
        f"</header>\n{table if rows else ''}"
    )


def _key_figures(customers: pd.DataFrame) -> str:
    orders = float(np.nansum(_num(customers["orders"])))
    revenue = float(np.nansum(_num(customers["revenue"])))
    figures = (
        ("Customers", format_number(len(customers))),
        ("Orders", format_number(orders)),
        ("Revenue", format_number(revenue, 2)),
        ("Average order value", format_number(revenue / orders if orders else math.nan, 2)),
    )
    cards = "".join(
        f'<div class="card"><span class="value">{_e(value)}</span>'
        f'<span class="label">{_e(label)}</span></div>'
        for label, value in figures
    )
    return f'<div class="cards" id="key-figures">{cards}</div>\n'


def _heatmaps(customers: pd.DataFrame, bins: int) -> str:
    r, f = _scores(customers, "r_score", bins), _scores(customers, "f_score", bins)
    valid = np.isfinite(r) & np.isfinite(f)
    cells = (bins - r[valid].astype(int), f[valid].astype(int) - 1)
    counts, revenue = np.zeros((bins, bins)), np.zeros((bins, bins))
    np.add.at(counts, cells, 1.0)
    np.add.at(revenue, cells, np.nan_to_num(_num(customers["revenue"])[valid]))
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
    content = _figures(("Customers", count_map), ("Revenue", revenue_map))
    return _section("Recency and frequency", content, lede)


def _rf_map(
    grid: npt.NDArray[np.float64], title: str, exact: svg.Formatter, short: svg.Formatter
) -> str:
    bins = len(grid)
    return svg.heatmap(
        grid.tolist(),
        row_labels=[str(b) for b in range(bins, 0, -1)],
        col_labels=[str(b) for b in range(1, bins + 1)],
        row_title="Recency score (R)",
        col_title="Frequency score (F)",
        title=title,
        value_format=exact,
        label_format=short,
    )


def _segments(segments: pd.DataFrame) -> str:
    names = [_plain(v) for v in segments["segment"]]
    if not names:
        return _section("Segments", '<p class="empty">No segment summary was given.</p>')
    cols = {c: _col(segments, c) for c in _SEGMENT_COLUMNS[1:]}
    by_customers = svg.bar_chart(
        names,
        cols["customers"].tolist(),
        title="Customers per segment",
        value_format=lambda v: f"{format_number(v)} customer{'' if v == 1 else 's'}",
        notes=[format_percent(s) if math.isfinite(s) else "" for s in cols["customer_share"]],
    )
    by_revenue = svg.bar_chart(
        names,
        cols["revenue"].tolist(),
        title="Revenue per segment",
        value_format=format_compact,
        notes=[
            f"{format_percent(s)} of revenue" if math.isfinite(s) else ""
            for s in cols["revenue_share"]
        ],
    )
    charts = _figures(("Customers per segment", by_customers), ("Revenue", by_revenue))
    rows = "".join(
        f'<tr><th scope="row" class="name">{_e(name)}</th>'
        + "".join(_td(fmt(cols[column][i])) for column, _, fmt in _SEGMENT_TABLE)
        + "</tr>\n"
        for i, name in enumerate(names)
    )
    head = _thead(["Segment", *(heading for _, heading, _ in _SEGMENT_TABLE)])
    lede = "Size and revenue of each segment, in the order the segment definitions list them."
    return _section("Segments", f"{charts}<table>{head}<tbody>{rows}</tbody></table>", lede)


def _figures(*charts: tuple[str, str]) -> str:
    """Charts side by side, each under its small heading."""
    inner = "".join(f"<figure><h3>{_e(heading)}</h3>{chart}</figure>" for heading, chart in charts)
    return f'<div class="row">{inner}</div>'


def _col(frame: pd.DataFrame, column: str) -> npt.NDArray[np.float64]:
    """A numeric column as floats; all NaN when the frame lacks it."""
    return _num(frame[column]) if column in frame.columns else np.full(len(frame), np.nan)


def _thead(labels: Sequence[str]) -> str:
    cells = "".join(
        f'<th scope="col"{" class=num" if k else ""}>{_e(label)}</th>'
        for k, label in enumerate(labels)
    )
    return f"<thead><tr>{cells}</tr></thead>"


def _td(text: str) -> str:
    return f'<td class="num">{_e(text)}</td>'


def _distributions(customers: pd.DataFrame, bins: int) -> str:
    figures = []
    for column, name, letter in _SCORES:
        if column not in customers.columns:
            continue
        scores = _scores(customers, column, bins)
        valid = scores[np.isfinite(scores)].astype(int)
        counts = [int(c) for c in np.bincount(valid - 1, minlength=bins)]
        chart = svg.score_histogram(
            counts, title=f"Customers per {name.lower()} score", axis_label=f"{letter} score"
        )
        figures.append(f"<figure><h3>{_e(name)} ({letter})</h3>{chart}</figure>")
    lede = "How many customers received each score. Hover over a bar for its share."
    return _section("Score distributions", f'<div class="dists">{"".join(figures)}</div>', lede)


def _cluster_keys(values: pd.Series) -> list[str]:
    """One spelling per cluster id, whether it arrives as 3, 3.0 or "3"."""
    return [
        str(int(n)) if math.isfinite(n) and n.is_integer() else _plain(v)
        for n, v in zip(_num(values), values.tolist(), strict=True)
    ]


def _clusters(customers: pd.DataFrame, clusters: pd.DataFrame | None) -> str:
    if clusters is None and "cluster" not in customers.columns:
        return ""
    profile = _derive_profile(customers) if clusters is None else clusters
    keys = _cluster_keys(profile["cluster"])
    names = profile["name"].tolist() if "name" in profile.columns else [None] * len(keys)
    # The id leads the label, so two clusters given the same name still stay apart.
    labels = [f"{k} · {n}" if _filled(n) else k for k, n in zip(keys, names, strict=True)]
    content = _profile_table(profile, labels)
    if {"cluster", "recency", "monetary"} <= set(customers.columns):
        content += _cluster_scatter(customers, dict(zip(keys, labels, strict=True)))
    lede = (
        "Groups of customers with similar values, found by K-Means. Cluster numbers carry no "
        "rank; the names describe each group's profile."
    )
    return _section("Clusters", content, lede)


def _derive_profile(customers: pd.DataFrame) -> pd.DataFrame:
    keyed = customers.assign(cluster=_cluster_keys(customers["cluster"]))
    for column in ("revenue", *_MEAN_SOURCES):
        if column in keyed.columns:
            keyed[column] = _num(keyed[column])
    grouped = keyed.groupby("cluster")
    total = float(np.nansum(keyed["revenue"]))
    profile = pd.DataFrame({"customers": grouped.size()})
    profile["revenue_share"] = grouped["revenue"].sum() / total if total else math.nan
    for source, (target, _, _) in zip(_MEAN_SOURCES, _MEANS, strict=True):
        if source in keyed.columns:
            profile[target] = grouped[source].mean()
    if "cluster_name" in keyed.columns:
        profile["name"] = grouped["cluster_name"].first()
    # Numeric ids in numeric order: cluster 10 comes after cluster 2.
    return profile.reset_index().sort_values("cluster", key=_num_key, kind="stable")


def _num_key(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce")


def _profile_table(profile: pd.DataFrame, labels: list[str]) -> str:
    means = [m for m in _MEANS if m[0] in profile.columns]
    count, share = _col(profile, "customers"), _col(profile, "revenue_share")
    order = list(dict.fromkeys(labels))  # the scatter's colour order
    rows = []
    for i, label in enumerate(labels):
        colour = svg.PALETTE[order.index(label) % len(svg.PALETTE)]
        swatch = f'<span class="swatch" style="background:{colour}"></span>'
        cells = _td(format_number(count[i])) + _td(format_percent(share[i]))
        cells += "".join(_td(format_number(_col(profile, c)[i], d)) for c, _, d in means)
        rows.append(f'<tr><th scope="row" class="name">{swatch}{_e(label)}</th>{cells}</tr>')
    head = _thead(["Cluster", "Customers", "Share of revenue", *(m[1] for m in means)])
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def _cluster_scatter(customers: pd.DataFrame, labels: dict[str, str]) -> str:
    keys = _cluster_keys(customers["cluster"])
    ids = customers["customer_id"].tolist() if "customer_id" in customers.columns else None
    chart = svg.scatter(
        _num(customers["recency"]).tolist(),
        _num(customers["monetary"]).tolist(),
        [labels.get(k, k) for k in keys],
        title="Recency and monetary value of customers, by cluster",
        x_label="Recency (days since last order)",
        y_label="Monetary (log scale)",
        log_y=True,
        order=list(dict.fromkeys(labels.values())),
        point_labels=None if ids is None else [_plain(v) for v in ids],
        noun="customers",
    )
    return f'<figure class="wide"><h3>Recency and monetary value</h3>{chart}</figure>'


def _how_to_read(bins: int, has_payment: bool) -> str:
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
    body = "".join(f"<li>{_e(item)}</li>" for item in items)
    return _section("How to read this", f'<ul class="read">{body}</ul>')
