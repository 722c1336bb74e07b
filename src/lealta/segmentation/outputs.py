"""What an RFM run hands to people: the per-customer table, the segment summary, the rejects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lealta.errors import InvalidInput
from lealta.orders.cleaning import REASON_NAMES, REASONS, clean
from lealta.orders.sources import suffix_of
from lealta.segmentation.joins import attach
from lealta.segmentation.pipeline import RFMRun

TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".json", ".jsonl")

# Leading columns of the per-customer table, in this order; the rest follow.
FIRST_COLUMNS = (
    "customer_id", "email", "name", "first_purchase", "last_purchase", "recency", "frequency",
    "monetary", "payment", "orders", "revenue", "r_score", "f_score", "m_score", "p_score",
    "rfm_code", "score_sum", "segment",
)  # fmt: skip


def customer_table(run: RFMRun, clusters: Any | None = None) -> Any:
    """The per-customer table (ibis), columns in reading order, optionally with clusters.

    ``clusters`` is an ibis table with ``customer_id`` (and the groups), ``cluster`` and
    ``cluster_name``.
    """
    t = run.current()
    if clusters is not None:
        t = attach(t, clusters, [*run.groups, "customer_id"], ["cluster", "cluster_name"])
    first = [*run.groups, *(c for c in FIRST_COLUMNS if c in t.columns)]
    rest = [c for c in t.columns if c not in first and c not in ("rows", "purchases")]
    return t.select(*first, *rest).order_by([*run.groups, "customer_id"])


def write_table(run: RFMRun, table: Any, path: Path) -> None:
    """Write ``table`` by the extension of ``path`` (CSV, optionally gzipped, Parquet, JSON)."""
    suffix = suffix_of(path)
    if suffix not in TABLE_SUFFIXES:
        raise InvalidInput(
            f"{path}: cannot write {suffix or 'a file without extension'}; "
            f"use one of {', '.join(TABLE_SUFFIXES)}",
            field="output",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if run.engine.name == "duckdb" and suffix in (".csv", ".parquet"):
        writer = run.engine.con.to_csv if suffix == ".csv" else run.engine.con.to_parquet
        writer(table, str(path))
        return
    frame = run.engine.execute(table)
    if suffix in (".csv", ".csv.gz"):
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".json":
        frame.to_json(path, orient="records", date_format="iso", indent=1)
    else:
        frame.to_json(path, orient="records", lines=True, date_format="iso")


def segment_summary(run: RFMRun) -> Any:
    """Per segment: customers, orders, revenue, average order value and shares (pandas).

    Segments come in the map's order; those with no customer are listed with zeros, so that
    every segment of the map is visible.
    """
    import pandas as pd

    t = run.customers
    agg = run.engine.execute(
        t.group_by("segment").aggregate(
            customers=t.count(), orders=t.orders.sum(), revenue=t.revenue.sum()
        )
    )
    order = run.segment_map.segment_names
    frame = pd.DataFrame({"segment": order}).merge(agg, on="segment", how="outer")
    frame["segment"] = pd.Categorical(
        frame["segment"], [*order, *sorted(set(agg.segment) - set(order))]
    )
    frame = frame.sort_values("segment").reset_index(drop=True)
    frame["segment"] = frame["segment"].astype(str)
    frame = frame.fillna({"customers": 0, "orders": 0, "revenue": 0.0})
    frame = frame.astype({"customers": "int64", "orders": "int64", "revenue": "float64"})
    if frame["segment"].eq(run.segment_map.default).any():
        default_rows = frame["segment"] == run.segment_map.default
        frame = frame[~default_rows | (frame["customers"] > 0)].reset_index(drop=True)
    total_customers = max(int(frame["customers"].sum()), 1)
    total_revenue = float(frame["revenue"].sum()) or 1.0
    frame["avg_order_value"] = (
        frame["revenue"] / frame["orders"].where(frame["orders"] > 0)
    ).fillna(0.0)
    frame["customer_share"] = frame["customers"] / total_customers
    frame["revenue_share"] = frame["revenue"] / total_revenue
    return frame


def write_rejects(run: RFMRun, path: Path) -> int:
    """Write every rejected input row with its line, reason code and explanation.

    Returns the number of rows written. The original columns follow ``line``, ``reason``
    and ``explanation``; malformed CSV lines carry their raw text in ``raw_line``.
    """
    import ibis
    import pandas as pd

    source = run.source
    keep = {f"__in_{i}": c for i, c in enumerate(source.columns)}
    keep["__row"] = "__row"
    numbered = source.table.mutate(__row=ibis.row_number())
    opened = type(source)(numbered, source.columns, source.kind, source.name, source.first_line)
    rows = clean(
        run.engine,
        opened,
        run.detection.columns,
        run.options,
        date_format=run.date_format,
        as_of=run.as_of
        if run.options.as_of or run.options.window_days or run.options.since
        else None,
        keep=keep,
    )
    with run.engine.in_input_order():
        rejected = run.engine.execute(rows.filter(rows.reason.notnull()).order_by("__row"))
    to_line = source.line_mapper()
    reasons = rejected["reason"].map(REASON_NAMES)
    out = pd.DataFrame(
        {
            "line": [to_line(int(i)) for i in rejected["__row"]],
            "reason": reasons,
            "explanation": reasons.map(REASONS),
        }
    )
    for name, col in keep.items():
        if name != "__row":
            out[col] = rejected[name].to_numpy()
    if source.malformed:
        bad = pd.DataFrame(
            {
                "line": [m.line for m in source.malformed],
                "reason": "malformed",
                "explanation": [m.reason for m in source.malformed],
                "raw_line": [m.text for m in source.malformed],
            }
        )
        out = pd.concat([out, bad], ignore_index=True).sort_values("line", kind="stable")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix_of(path) == ".parquet":
        out.to_parquet(path, index=False)
    else:
        out.to_csv(path, index=False)
    return len(out)
