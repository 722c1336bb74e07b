"""The report's cluster section: a profile table per cluster and a scatter of its customers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lealta.report.drawing import PALETTE
from lealta.report.format import format_number, format_percent
from lealta.report.markup import (
    escaped,
    is_filled,
    number_cell,
    numeric,
    numeric_column,
    plain_text,
    section,
    table_head,
)
from lealta.report.scatter import scatter

_MEAN_SOURCES = ("recency", "frequency", "monetary", "payment")
_MEANS = (
    ("mean_recency", "Mean recency (days)", 1), ("mean_frequency", "Mean frequency", 1),
    ("mean_monetary", "Mean monetary", 2), ("mean_payment", "Mean payment", 2),
)  # fmt: skip


def _cluster_keys(values: pd.Series) -> list[str]:
    """One spelling per cluster id, whether it arrives as 3, 3.0 or "3"."""
    return [
        str(int(n)) if math.isfinite(n) and n.is_integer() else plain_text(v)
        for n, v in zip(numeric(values), values.tolist(), strict=True)
    ]


def cluster_section(customers: pd.DataFrame, clusters: pd.DataFrame | None) -> str:
    """The cluster section; empty without a cluster profile or a ``cluster`` column."""
    if clusters is None and "cluster" not in customers.columns:
        return ""
    profile = _derive_profile(customers) if clusters is None else clusters
    keys = _cluster_keys(profile["cluster"])
    names = profile["name"].tolist() if "name" in profile.columns else [None] * len(keys)
    # The id leads the label, so two clusters given the same name still stay apart.
    labels = [f"{k} · {n}" if is_filled(n) else k for k, n in zip(keys, names, strict=True)]
    content = _profile_table(profile, labels)
    if {"cluster", "recency", "monetary"} <= set(customers.columns):
        content += _cluster_scatter(customers, dict(zip(keys, labels, strict=True)))
    lede = (
        "Groups of customers with similar values, found by K-Means. Cluster numbers carry no "
        "rank; the names describe each group's profile."
    )
    return section("Clusters", content, lede)


def _derive_profile(customers: pd.DataFrame) -> pd.DataFrame:
    keyed = customers.assign(cluster=_cluster_keys(customers["cluster"]))
    for column in ("revenue", *_MEAN_SOURCES):
        if column in keyed.columns:
            keyed[column] = numeric(keyed[column])
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
    count, share = numeric_column(profile, "customers"), numeric_column(profile, "revenue_share")
    order = list(dict.fromkeys(labels))  # the scatter's colour order
    rows = []
    for i, label in enumerate(labels):
        colour = PALETTE[order.index(label) % len(PALETTE)]
        swatch = f'<span class="swatch" style="background:{colour}"></span>'
        cells = number_cell(format_number(count[i])) + number_cell(format_percent(share[i]))
        cells += "".join(
            number_cell(format_number(numeric_column(profile, c)[i], d)) for c, _, d in means
        )
        rows.append(f'<tr><th scope="row" class="name">{swatch}{escaped(label)}</th>{cells}</tr>')
    head = table_head(["Cluster", "Customers", "Share of revenue", *(m[1] for m in means)])
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def _cluster_scatter(customers: pd.DataFrame, labels: dict[str, str]) -> str:
    keys = _cluster_keys(customers["cluster"])
    ids = customers["customer_id"].tolist() if "customer_id" in customers.columns else None
    chart = scatter(
        numeric(customers["recency"]).tolist(),
        numeric(customers["monetary"]).tolist(),
        [labels.get(k, k) for k in keys],
        title="Recency and monetary value of customers, by cluster",
        x_label="Recency (days since last order)",
        y_label="Monetary (log scale)",
        log_y=True,
        order=list(dict.fromkeys(labels.values())),
        point_labels=None if ids is None else [plain_text(v) for v in ids],
        noun="customers",
    )
    return f'<figure class="wide"><h3>Recency and monetary value</h3>{chart}</figure>'
