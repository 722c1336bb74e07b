"""View models of the console: the overview's windows and the contact list's query string."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lealta.console.contacts_page import wanted_from
from lealta.errors import InvalidInput
from lealta.overview.service import DayFigure, Overview

NOW = dt.datetime(2030, 3, 10, 15, 0, tzinfo=dt.UTC)  # an injected "now", never the real clock


def _overview(days: list[DayFigure]) -> Overview:
    return Overview(
        computed_at=NOW,
        contacts=10,
        stages=[],
        days=days,
        segments=[],
        grid={(5, 1): 2},
        rfm_as_of=None,
        channels=[],
        workflows=[],
        inbox_waiting=0,
        inbox_failed=0,
    )


def test_windows_count_the_last_days_today_included() -> None:
    days = [
        DayFigure(NOW.date() - dt.timedelta(days=89 - i), 1, Decimal("2.50")) for i in range(90)
    ]
    overview = _overview(days)
    assert overview.new_contacts(30) == 30
    assert overview.revenue(30) == Decimal("75.00")
    assert overview.new_contacts(90) == 90
    figures = overview.as_dict()
    assert figures["windows"]["30"] == {"new_contacts": 30, "revenue": "75.00"}
    assert figures["rfm"]["grid"] == [{"r": 5, "f": 1, "customers": 2}]
    assert figures["days"][-1] == {"day": "2030-03-10", "contacts": 1, "revenue": "2.50"}


def test_new_within_counts_from_the_start_of_the_first_day() -> None:
    wanted = wanted_from({"created_within": "30"}, now=NOW)
    assert wanted.arrived_after == dt.datetime(2030, 2, 9, tzinfo=dt.UTC)


def test_list_filters_come_from_the_query_string() -> None:
    wanted = wanted_from({"stage": "Lead", "segment": "At Risk", "r": "5", "f": "1"}, now=NOW)
    assert (wanted.stage, wanted.segment, wanted.r, wanted.f) == ("Lead", "At Risk", 5, 1)
    assert wanted.arrived_after is None


@pytest.mark.parametrize(
    ("query", "field"),
    [({"r": "x"}, "r"), ({"f": "0"}, "f"), ({"created_within": "-3"}, "created_within")],
)
def test_bad_filters_name_the_field(query: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as problem:
        wanted_from(query, now=NOW)
    assert problem.value.field == field
