"""The report pages' view model (periods, links, words) and the time charts; time buckets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lealta.console.reports_page import Period, behind_link, describe, period_from, row_links
from lealta.console.timecharts import Point, Series, lines
from lealta.errors import InvalidInput
from lealta.feedback.behind import Figure
from lealta.feedback.reports import MessageStats
from lealta.feedback.trends import Bucket, bucket_start

NOW = dt.datetime(2030, 3, 10, 15, 0, tzinfo=dt.UTC)  # an injected "now", never the real clock


def test_the_last_days_include_today_and_default_to_30() -> None:
    period = period_from({}, now=NOW)
    assert (period.start, period.end, period.choice) == (
        dt.date(2030, 2, 9),
        dt.date(2030, 3, 10),
        "30",
    )
    assert period.since == dt.datetime(2030, 2, 9, tzinfo=dt.UTC)
    assert period.until == dt.datetime(2030, 3, 11, tzinfo=dt.UTC)
    assert period_from({"period": "7"}, now=NOW).start == dt.date(2030, 3, 4)


def test_dates_give_a_custom_period_charted_per_week_when_long() -> None:
    period = period_from({"from": "2030-01-01", "to": "2030-03-31"}, now=NOW)
    assert (period.days, period.choice, period.bucket) == (90, "custom", "week")
    assert period.words() == "2030-01-01 to 2030-03-31"
    assert period_from({"period": "30"}, now=NOW).bucket == "day"


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"from": "2030-02-30", "to": "2030-03-01"}, "from", "From: '2030-02-30' is not a date"),
        ({"from": "2030-03-02", "to": "2030-03-01"}, "to", r"To \(2030-03-01\) is before from"),
        ({"from": "2030-03-02"}, "to", "To: give both dates"),
        ({"period": "12"}, "period", "Period: choose the last 7, 30, 90 days"),
        ({"from": "2020-01-01", "to": "2030-01-01"}, "from", "a period is at most"),
    ],
)
def test_a_bad_period_names_its_field(query: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as raised:
        period_from(query, now=NOW)
    assert raised.value.field == field


def test_each_count_links_to_its_people_with_explicit_dates() -> None:
    period = Period(dt.date(2030, 3, 1), dt.date(2030, 3, 7), "7")
    links = row_links(period, "step", MessageStats({"workflow": "winback", "step": "mail-1"}))
    assert links["clicked_unique"] == (
        "/reports/contacts?kind=message&by=step&figure=clicked&workflow=winback&step=mail-1"
        "&from=2030-03-01&to=2030-03-07"
    )
    assert links["converted"].count("figure=converted") == 1
    assert behind_link(period, kind="nps", survey="nps", category="") == (
        "/reports/contacts?kind=nps&survey=nps&from=2030-03-01&to=2030-03-07"
    )


def test_the_contacts_page_says_what_it_lists() -> None:
    period = Period(dt.date(2030, 3, 1), dt.date(2030, 3, 7), "custom")
    since, until = period.since, period.until
    clicked = Figure("message", since, until, figure="clicked", key={"template": "welcome"})
    assert describe(clicked, period) == (
        "Contacts who clicked (messages of template welcome), 2030-03-01 to 2030-03-07"
    )
    split = Figure("split", since, until, figure="goal", workflow="w", step="s", branch="B")
    assert describe(split, period).startswith("Contacts sent down branch 'B' of split 's'")
    assert describe(split, period).endswith("and reached the goal, 2030-03-01 to 2030-03-07")


def test_weeks_start_on_monday() -> None:
    sunday, monday = dt.date(2030, 3, 10), dt.date(2030, 3, 11)
    assert bucket_start(sunday, "week") == dt.date(2030, 3, 4)
    assert bucket_start(monday, "week") == monday
    assert bucket_start(sunday, "day") == sunday


def test_buckets_add_up() -> None:
    week = Bucket(dt.date(2030, 3, 4), sent=2, opened=1, revenue=Decimal("5.00"))
    week.add(Bucket(dt.date(2030, 3, 5), sent=3, clicked=2, converted=1, revenue=Decimal("7.50")))
    assert (week.sent, week.opened, week.clicked, week.converted) == (5, 1, 2, 1)
    assert week.revenue == Decimal("12.50")


def test_a_time_chart_links_every_point_and_escapes_text() -> None:
    svg = lines(
        [
            Series("sent", [Point("2030-03-01", 10, "/r?a=1&b=2"), Point("2030-03-02", 4)]),
            Series("<clicked>", [Point("2030-03-01", 2), Point("2030-03-02", 0)]),
        ],
        title="Sent & clicked",
    )
    assert svg.startswith('<svg class="chart"')
    assert 'aria-label="Sent &amp; clicked"' in svg
    assert '<a href="/r?a=1&amp;b=2" aria-label="2030-03-01: 10 sent">' in svg
    assert svg.count("<polyline") == 2
    assert "&lt;clicked&gt;" in svg
    assert "2030-03-01</text>" in svg
    assert "2030-03-02</text>" in svg
