"""The terminal summary of an RFM run (rich)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from lealta.orders.cleaning import REASONS

ROLE_NAMES = {"payment_method": "payment method", "due_date": "due date", "paid_date": "paid date"}


def definitions(run: Any) -> list[str]:
    """The definitions a run used, in words."""
    o = run.options
    purchase = {"order": "an order", "day": "a day with purchases", "row": "a row"}[o.purchase]
    if o.purchase == "order" and not run.detection.columns.order:
        purchase = "a day with purchases (no order column)"
    lines = [
        f"as of {run.as_of.isoformat()}; recency = days since the last purchase",
        f"frequency = purchases, one purchase = {purchase}",
        "monetary = " + ("total spent" if o.monetary == "sum" else "average purchase value"),
    ]
    if o.payment == "promptness":
        lines.append("payment = average days late per purchase (lower is better)")
    elif o.payment == "method":
        lines.append("payment = average payment-method rank (higher is better)")
    scoring = ", ".join(f"{d.upper()} by thresholds {list(b)}" for d, b in o.thresholds.items())
    lines.append(
        f"scores 1-{o.bins} by quantiles"
        + (f" ({scoring})" if scoring else "")
        + (
            "; 1 = best"
            if not o.best_high
            else "; 5 = best"
            if o.bins == 5
            else f"; {o.bins} = best"
        )
    )
    if o.reverse_recency:
        lines.append("reverse recency: the longest-ago buyers score best")
    if run.groups:
        lines.append("scores computed within each " + ", ".join(run.groups))
    lines.append(f"segments: {run.segment_map.name}")
    return lines


def facts_of(run: Any) -> dict[str, str]:
    """Ordered facts about a run for the report header."""
    c = run.cleaning
    facts = {
        "Source": Path(run.source.name).name,
        "As of": run.as_of.isoformat(),
        "Rows read": f"{c.rows_read:,}",
        "Rows kept": f"{c.rows_kept:,}",
    }
    for reason, n in c.rejected.items():
        facts[f"Dropped: {REASONS.get(reason, reason)}"] = f"{n:,}"
    facts["Columns"] = ", ".join(
        f"{ROLE_NAMES.get(role, role)} = {col} ({run.detection.how.get(role, 'given')})"
        for role, col in run.detection.columns.roles().items()
    )
    facts["Definitions"] = "; ".join(definitions(run))
    for i, note in enumerate(run.notes, 1):
        facts[f"Note {i}"] = note
    return facts


def print_run(
    console: Console,
    run: Any,
    summary: Any,
    clustering: Any,
    written: dict[str, Path],
    seconds: float,
) -> None:
    """Print what was read, how it was cleaned, and the segments."""
    c = run.cleaning
    detected = ", ".join(
        f"{ROLE_NAMES.get(role, role)}=[bold]{col}[/]"
        + (" (detected)" if run.detection.how.get(role) == "detected" else "")
        for role, col in run.detection.columns.roles().items()
    )
    console.print(
        f"[bold]{Path(run.source.name).name}[/]: {c.rows_read:,} rows; columns {detected}"
    )
    if c.rejected:
        dropped = "; ".join(f"{REASONS.get(r, r)}: {n:,}" for r, n in c.rejected.items())
        console.print(f"kept {c.rows_kept:,} rows, dropped {c.rows_rejected:,} ({dropped})")
    for line in definitions(run):
        console.print(f"  [dim]{line}[/]")
    for note in run.notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(_segment_table(summary))
    if clustering is not None:
        console.print(_cluster_table(clustering))
    for what, path in written.items():
        console.print(f"wrote {what}: [bold]{path}[/]")
    console.print(f"[dim]{int(summary['customers'].sum()):,} customers in {seconds:.1f} s[/]")


def _segment_table(summary: Any) -> Table:
    table = Table(title="Segments", title_justify="left")
    for name in (
        "Segment",
        "Customers",
        "Share",
        "Orders",
        "Revenue",
        "Revenue share",
        "Avg order",
    ):
        table.add_column(name, justify="left" if name == "Segment" else "right")
    for row in summary.itertuples(index=False):
        table.add_row(
            str(row.segment),
            f"{row.customers:,}",
            f"{row.customer_share:.1%}",
            f"{row.orders:,}",
            f"{row.revenue:,.2f}",
            f"{row.revenue_share:.1%}",
            f"{row.avg_order_value:,.2f}",
        )
    return table


def _cluster_table(clustering: Any) -> Table:
    table = Table(title=f"Clusters (k = {clustering.k})", title_justify="left")
    for name in (
        "Cluster",
        "Name",
        "Customers",
        "Revenue share",
        "Recency",
        "Frequency",
        "Monetary",
    ):
        table.add_column(name, justify="left" if name == "Name" else "right")
    for row in clustering.profiles.itertuples(index=False):
        table.add_row(
            str(row.cluster),
            str(row.name),
            f"{row.customers:,}",
            f"{row.revenue_share:.1%}",
            f"{row.mean_recency:,.0f}",
            f"{row.mean_frequency:,.1f}",
            f"{row.mean_monetary:,.2f}",
        )
    return table
