from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from lealta.automations.durations import (
    next_local_moment,
    parse_clock,
    parse_cron,
    parse_duration,
    wall_clock,
)
from lealta.errors import InvalidInput

MADRID = ZoneInfo("Europe/Madrid")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", timedelta(seconds=45)),
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("3d", timedelta(days=3)),
        ("2w", timedelta(weeks=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        (" 2H ", timedelta(hours=2)),
        ("P1D", timedelta(days=1)),
        ("PT2H", timedelta(hours=2)),
        ("PT90M", timedelta(minutes=90)),
        ("P1DT12H30M", timedelta(days=1, hours=12, minutes=30)),
        ("P2W", timedelta(weeks=2)),
        ("p3d", timedelta(days=3)),
    ],
)
def test_durations_are_read_short_or_iso(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "3", "3x", "1.5h", "-1h", "0m", "P", "PT", "P1M", "P1Y", "P1DT", "1 h", "20000d"]
)
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="duration"):
        parse_duration(text)


def test_clock_times_are_hh_mm() -> None:
    assert parse_clock("09:30") == time(9, 30)
    assert parse_clock("23:59") == time(23, 59)
    for bad in ("9:30", "24:00", "12:60", "noon"):
        with pytest.raises(InvalidInput, match="HH:MM"):
            parse_clock(bad)


def test_a_time_skipped_by_the_clocks_moves_on_by_the_gap() -> None:
    # Madrid springs forward at 02:00 on 30 March 2025: 02:30 does not exist.
    assert wall_clock(date(2025, 3, 30), time(2, 30), MADRID) == datetime(
        2025, 3, 30, 1, 30, tzinfo=UTC
    )


def test_the_next_local_time_is_strictly_after_now() -> None:
    at_nine = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)  # 09:00 in Madrid (CET)
    assert next_local_moment(at_nine, MADRID, at=time(9, 0)) == at_nine + timedelta(days=1)


def test_without_a_time_a_wanted_day_is_enough() -> None:
    monday = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
    assert next_local_moment(monday, MADRID, weekdays=frozenset({0})) == monday
    # Next Saturday starts at 00:00 Madrid time, 23:00 UTC on Friday.
    saturday = next_local_moment(monday, MADRID, weekdays=frozenset({5}))
    assert saturday == datetime(2025, 3, 7, 23, 0, tzinfo=UTC)


def test_a_29_february_anniversary_falls_on_the_28th_in_common_years() -> None:
    after = datetime(2025, 1, 1, tzinfo=UTC)
    found = next_local_moment(
        after, ZoneInfo("UTC"), at=time(9, 0), anniversary=date(2000, 2, 29), days_before=1
    )
    assert found == datetime(2025, 2, 27, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "* * * *",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * * 13 *",
        "* * * * 8",
        "5-1 * * * *",
        "*/0 * * * *",
        "a * * * *",
        "0 0 30 2 *",
    ],
)
def test_bad_cron_expressions_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="cron"):
        parse_cron(text)


def test_cron_fields_take_numbers_ranges_lists_and_steps() -> None:
    schedule = parse_cron("*/15 9-17/4 1,15 * 1-5")
    assert schedule.minutes == frozenset({0, 15, 30, 45})
    assert schedule.hours == frozenset({9, 13, 17})
    assert schedule.days == frozenset({1, 15})
    assert schedule.weekdays == frozenset({1, 2, 3, 4, 5})
    assert parse_cron("0 0 * * 7").weekdays == frozenset({0})


def test_cron_restricting_both_days_fires_on_either() -> None:
    schedule = parse_cron("0 9 13 * 5")  # the 13th, or any Friday
    assert schedule.day_matches(date(2025, 3, 13))  # a Thursday
    assert schedule.day_matches(date(2025, 3, 7))  # a Friday
    assert not schedule.day_matches(date(2025, 3, 8))
    assert not parse_cron("0 9 * * 5").day_matches(date(2025, 3, 13))


def test_cron_next_firing_is_read_in_the_zone() -> None:
    schedule = parse_cron("0 9 * * 1-5")
    friday_evening = datetime(2025, 3, 7, 18, 0, tzinfo=UTC)
    assert schedule.next_after(friday_evening, MADRID) == datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    assert schedule.matches(datetime(2025, 3, 10, 9, 0))


def test_cron_skips_local_times_the_clocks_jump_over() -> None:
    schedule = parse_cron("30 2 * * *")
    before = datetime(2025, 3, 29, 12, 0, tzinfo=UTC)
    # 02:30 does not exist in Madrid on 30 March: the next firing is on the 31st (CEST).
    assert schedule.next_after(before, MADRID) == datetime(2025, 3, 31, 0, 30, tzinfo=UTC)
