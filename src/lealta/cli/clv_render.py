"""The terminal summary of a ``lealta clv`` run (rich)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from lealta.orders.cleaning import REASONS
from lealta.prediction.bands import BANDS

BAND_WORDS = {
    "low": "low (P(alive) ≥ 0.7)",
    "medium": "medium (0.3-0.7)",
    "high": "high (< 0.3)",
    "new": "one purchase only",
}


def definitions(run: Any) -> list[str]:
    """What the run measured, in words."""
    o = run.options
    lines = [
        f"observed to {run.as_of.isoformat()} (inclusive); one purchase = a day with orders",
        f"time unit: {o.period}; recency = age at last purchase, T = age, in {o.period}s",
        f"predicted over {o.horizon_days} days; value discounted at {o.discount:.1%} a year",
    ]
    if run.holdout is not None:
        lines.append(
            f"calibration to {run.calibration_end.isoformat()}, "
            f"holdout {run.holdout.holdout_days} days after it"
        )
    if not run.fitted:
        lines.append("parameters given (--params): not refitted")
    return lines


def print_clv(
    console: Console, run: Any, source: str, written: dict[str, Path], seconds: float
) -> None:
    """What was read, the fitted parameters, churn bands and the holdout check."""
    c = run.cleaning
    console.print(f"[bold]{source}[/]: {c.rows_read:,} rows, {c.rows_kept:,} kept")
    if c.rejected:
        dropped = "; ".join(f"{REASONS.get(r, r)}: {n:,}" for r, n in c.rejected.items())
        console.print(f"dropped {c.rows_rejected:,} ({dropped})")
    for line in definitions(run):
        console.print(f"  [dim]{line}[/]")
    for note in run.notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(parameter_table(run))
    console.print(band_table(run.customers))
    if run.holdout is not None:
        console.print(holdout_table(run.holdout))
        h = run.holdout
        console.print(
            f"holdout: {h.actual:,.0f} repeat purchases, {h.predicted:,.0f} predicted "
            f"({h.aggregate_error:+.1%}); mean absolute error per customer {h.mae:.3f}"
        )
    for what, path in written.items():
        console.print(f"wrote {what}: [bold]{path}[/]")
    console.print(f"[dim]{len(run.customers):,} customers in {seconds:.1f} s[/]")


def parameter_table(run: Any) -> Table:
    table = Table(title="Fitted parameters", title_justify="left")
    for name in ("Model", "Parameter", "Estimate", "Std. error"):
        table.add_column(name, justify="right" if name in ("Estimate", "Std. error") else "left")
    for model, label in (("bgnbd", "BG/NBD"), ("gamma_gamma", "Gamma-Gamma")):
        errors = run.params.errors.get(model, {})
        for name, value in getattr(run.params, model).items():
            error = errors.get(name)
            table.add_row(label, name, f"{value:.4f}", "-" if error is None else f"{error:.4f}")
    return table


def band_table(customers: Any) -> Table:
    table = Table(title="Churn risk", title_justify="left")
    for name in ("Band", "Customers", "Share", "Expected purchases", "Predicted value"):
        table.add_column(name, justify="left" if name == "Band" else "right")
    total = max(len(customers), 1)
    for band in BANDS:
        rows = customers[customers["churn_risk"] == band]
        table.add_row(
            BAND_WORDS[band],
            f"{len(rows):,}",
            f"{len(rows) / total:.1%}",
            f"{rows['expected_purchases'].sum():,.1f}",
            f"{rows['clv'].sum():,.2f}",
        )
    return table


def holdout_table(check: Any) -> Table:
    table = Table(
        title="Holdout: mean repeat purchases by calibration repeat purchases",
        title_justify="left",
    )
    for name in ("Calibration purchases", "Customers", "Actual", "Predicted"):
        table.add_column(name, justify="right")
    for row in check.by_frequency.itertuples(index=False):
        table.add_row(
            str(row.frequency), f"{row.customers:,}", f"{row.actual:.3f}", f"{row.predicted:.3f}"
        )
    return table
