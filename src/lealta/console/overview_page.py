"""The overview page's view model: the overview's figures, the charts drawn from them, and the
link behind each figure (the console's contact list, filtered as ``GET /v1/contacts`` is)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from lealta.console.charts import Bar, columns, funnel
from lealta.overview.service import Overview


def contacts_link(**criteria: Any) -> str:
    """The console's contact list filtered by ``criteria`` (``None`` values left out)."""
    query = {name: value for name, value in criteria.items() if value not in (None, "")}
    return "/contacts" + (f"?{urlencode(query)}" if query else "")


def rf_cells(grid: dict[tuple[int, int], int]) -> list[list[dict[str, Any]]]:
    """The R x F grid as rows (R 5 at the top) of cells (F 1 to 5), each linking to its
    customers."""
    return [
        [
            {"r": r, "f": f, "customers": grid.get((r, f), 0), "href": contacts_link(r=r, f=f)}
            for f in range(1, 6)
        ]
        for r in range(5, 0, -1)
    ]


def overview_context(figures: Overview) -> dict[str, Any]:
    """Everything ``overview.html`` shows for ``figures``."""
    stages = funnel(
        [
            Bar(s.stage, s.contacts, contacts_link(stage=s.stage), f"{s.stage}: {s.contacts:,}")
            for s in figures.stages
        ],
        title="Contacts by lifecycle stage",
    )
    days = figures.days
    new = columns(
        [Bar(d.day.isoformat(), d.contacts, tip=f"{d.day}: {d.contacts:,} new") for d in days],
        title="New contacts per day, last 90 days",
    )
    revenue = columns(
        [Bar(d.day.isoformat(), float(d.revenue), tip=f"{d.day}: {d.revenue:,}") for d in days],
        title="Revenue per day, last 90 days",
    )
    grid = rf_cells(figures.grid)
    busiest = max(figures.grid.values(), default=0) or 1
    return {
        "o": figures,
        "stages_chart": stages,
        "new_chart": new,
        "revenue_chart": revenue,
        "grid": grid,
        "grid_max": busiest,
        "contacts_link": contacts_link,
        "sent_30d": sum(c.sent for c in figures.channels),
    }
