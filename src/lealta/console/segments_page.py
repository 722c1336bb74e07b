"""The Segments page's view model: the same report as ``GET /v1/segments`` (segments with their
definitions, the R x F grid), the movement matrix of ``GET /v1/segments/movements`` between two
dates, the cluster profiles of ``GET /v1/segments/clusters`` and the predicted value per segment
(:mod:`lealta.prediction.breakdown`); each figure with the link to the contacts behind it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from lealta.bootstrap import Services
from lealta.console.overview_page import contacts_link, rf_cells
from lealta.errors import InvalidInput
from lealta.prediction.breakdown import (
    Grouping,
    GroupValue,
    ValueBreakdown,
    predictions_stamp,
    value_by,
)
from lealta.segmentation.members import members_page
from lealta.segmentation.movements import Movements, check_dates, movers
from lealta.segmentation.remembered import (
    clusters,
    default_days,
    moves,
    scoring_stamp,
    segments_report,
)
from lealta.storage.memo import Memo

MOVERS_PAGE = 50
NEW, GONE = "Not scored yet", "No longer scored"


def day_label(day: dt.date) -> str:
    """``1 Oct 2026``."""
    return f"{day.day} {day:%b %Y}"


def parse_day(text: str | None, field: str, default: dt.date) -> dt.date:
    """A ``YYYY-MM-DD`` query value (``default`` when empty); ``InvalidInput`` naming
    ``field`` otherwise."""
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        message = f"{field} must be a date like 2026-10-01, not {text!r}"
        raise InvalidInput(message, field=field) from None


def moves_link(start: dt.date, end: dt.date, before: str | None, after: str | None) -> str:
    """The list of contacts who were in ``before`` on ``start`` and in ``after`` on ``end``
    (``None``: new / gone)."""
    query = {"from": start.isoformat(), "to": end.isoformat()}
    query["was"] = before or ""
    query["now"] = after or ""
    return "/segments/moves?" + urlencode(query)


@dataclass(frozen=True)
class MatrixCell:
    count: int
    href: str
    level: int  # colour intensity 0..5
    stayed: bool
    label: str  # for screen readers: "Champions to At Risk: 12 contacts"


def matrix(found: Movements, order: list[str]) -> dict[str, Any]:
    """Rows (segment on the first day, then New) by columns (segment on the second day, then
    Gone), with row and column totals; every count links to its contacts."""
    names = found.segments(order)
    rows: list[str | None] = [*names, None]
    cols: list[str | None] = [*names, None]
    busiest = max((n for (a, b), n in found.cells.items() if a != b), default=0) or 1
    table = []
    for before in rows:
        cells = []
        for after in cols:
            count = found.count(before, after)
            stayed = before == after and before is not None
            level = 0 if not count or stayed else max(1, round(count / busiest * 5))
            words = f"{before or NEW} to {after or GONE}: {count:,} contacts"
            cells.append(
                MatrixCell(count, moves_link(found.start, found.end, before, after), level, stayed,
                           words)
            )  # fmt: skip
        total = sum(c.count for c in cells)
        table.append({"name": before or NEW, "cells": cells, "total": total, "segment": before})
    totals = [sum(found.count(a, b) for a in rows) for b in cols]
    return {
        "columns": [c or GONE for c in cols],
        "rows": [r for r in table if r["total"]],
        "totals": totals,
        "moved": found.moved(),
        "start_label": day_label(found.start),
        "end_label": day_label(found.end),
    }


def remembered_value(
    memo: Memo, session: Any, by: Grouping, groups_stamp: Hashable
) -> ValueBreakdown:
    """:func:`lealta.prediction.breakdown.value_by`, remembered until a ``clv`` run, an
    erasure or a change of the groups (``groups_stamp``)."""
    key = ("predicted value", by, predictions_stamp(session), groups_stamp)
    return memo.get(key, lambda: value_by(session, by))


def value_view(found: ValueBreakdown, by: Grouping, names: list[str]) -> dict[str, Any]:
    """The predicted value of each group in ``names`` (then any other with predictions), each
    figure linking to its people: those with a prediction, or those at churn risk."""
    order = [*names, *sorted(set(found.groups) - set(names))]
    rows = []
    for name in order:
        group = found.groups.get(name) or GroupValue(name, 0, 0.0, None, 0)
        rows.append(
            {
                "name": name,
                "group": group,
                "href": contacts_link(**{by: name, "clv_min": 0}),
                "risk_href": contacts_link(**{by: name, "churn_band": "high"}),
            }
        )
    when = found.computed_at.date() if found.computed_at else None
    return {
        "rows": rows,
        "by_name": {row["name"]: row for row in rows},
        "predicted": found.predicted,
        "horizon_days": found.horizon_days,
        "computed_label": day_label(when) if when else "",
        "at_risk_below": found.at_risk_below,
    }


def segments_context(services: Services, query: dict[str, str]) -> dict[str, Any]:
    """Everything ``segments.html`` shows for this query string (``from``, ``to``)."""
    today = services.clock.now().date()
    problem = ""
    memo = services.memo
    with services.uow.transaction() as session:
        report = segments_report(memo, session)
        first, second = default_days(memo, session, today=today)
        try:
            start = parse_day(query.get("from"), "from", first)
            end = parse_day(query.get("to"), "to", second)
            check_dates(start, end)
        except InvalidInput as exc:
            problem, start, end = str(exc), first, second
        found = moves(memo, session, start, end)
        profiles = clusters(memo, session)
        value = remembered_value(memo, session, "segment", scoring_stamp(session))
    order = list(report.definitions)
    return {
        "report": report,
        "as_of_label": day_label(report.scoring.as_of.date()) if report.scoring.as_of else "",
        "segments": report.segments,
        "definitions": report.definitions,
        "grid": rf_cells(report.grid),
        "grid_max": max(report.grid.values(), default=0) or 1,
        "matrix": matrix(found, order),
        "start": start,
        "end": end,
        "problem": problem,
        "clusters": profiles,
        "value": value_view(value, "segment", [s.segment for s in report.segments]),
        "contacts_link": contacts_link,
        "export_link": lambda name: "/segments/export?" + urlencode({"segment": name}),
    }


def move_sentence(before: str | None, after: str | None, start: str, end: str) -> str:
    """ "in Champions on 1 Oct 2026 and in At Risk on 1 Nov 2026" (new, gone and stayers said
    so)."""
    was = f"with no segment on {start}" if before is None else f"in {before} on {start}"
    if after is None:
        return f"{was} and none any more on {end}"
    return f"{was} and {'still there' if after == before else f'in {after}'} on {end}"


def moves_context(services: Services, query: dict[str, str]) -> dict[str, Any]:
    """The contacts of one cell of the matrix (``from``, ``to``, ``was``, ``now``; an empty
    ``was`` is "new", an empty ``now`` "gone"), a page at a time after ``after``."""
    today = services.clock.now().date()
    start = parse_day(query.get("from"), "from", today)
    end = parse_day(query.get("to"), "to", today)
    check_dates(start, end)
    before, after = query.get("was") or None, query.get("now") or None
    last = query.get("after", "")
    with services.uow.transaction() as session:
        count = moves(services.memo, session, start, end).count(before, after)
        found = members_page(
            session, movers(start, end, before, after), after=last, limit=MOVERS_PAGE + 1
        )
    page = found[:MOVERS_PAGE]
    following = ""
    if len(found) > MOVERS_PAGE:
        following = moves_link(start, end, before, after) + "&" + urlencode({"after": page[-1].id})
    return {
        "members": page,
        "count": count,
        "sentence": move_sentence(before, after, day_label(start), day_label(end)),
        "was": before or NEW,
        "now": after or GONE,
        "start_label": day_label(start),
        "end_label": day_label(end),
        "back": "/segments?" + urlencode({"from": start.isoformat(), "to": end.isoformat()}),
        "next_href": following,
    }
