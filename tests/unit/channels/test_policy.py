"""Frequency caps and quiet hours (pure)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lealta.channels.policy import (
    FrequencyCap,
    QuietHours,
    allowed,
    breached,
    is_quiet,
    next_allowed,
)
from lealta.errors import InvalidInput

NOW = dt.datetime(2025, 6, 10, 12, 0, tzinfo=dt.UTC)


def days_ago(*days: float) -> list[dt.datetime]:
    return [NOW - dt.timedelta(days=d) for d in days]


def test_three_per_week_allows_the_third_and_refuses_the_fourth() -> None:
    cap = [FrequencyCap(3, 7)]
    assert allowed(days_ago(1, 2), NOW, cap)
    assert not allowed(days_ago(1, 2, 3), NOW, cap)


def test_messages_older_than_the_window_do_not_count() -> None:
    cap = [FrequencyCap(3, 7)]
    assert allowed(days_ago(1, 2, 7), NOW, cap)
    assert allowed(days_ago(1, 2, 8), NOW, cap)
    assert not allowed(days_ago(1, 2, 6.9), NOW, cap)


def test_the_tightest_of_several_caps_decides() -> None:
    caps = [FrequencyCap(5, 7), FrequencyCap(1, 1)]
    assert breached(days_ago(0.5), NOW, caps) == FrequencyCap(1, 1)
    assert allowed(days_ago(1.5, 2, 3), NOW, caps)


def test_a_channel_cap_counts_only_its_channels() -> None:
    sms_cap = [FrequencyCap(1, 7, channels=("sms",))]
    earlier = [(NOW - dt.timedelta(days=1), "email"), (NOW - dt.timedelta(days=2), "email")]
    assert allowed(earlier, NOW, sms_cap, channel="sms")
    assert not allowed([*earlier, (NOW - dt.timedelta(days=3), "sms")], NOW, sms_cap, channel="sms")
    # an email is not limited by a cap on SMS
    assert allowed([(NOW - dt.timedelta(days=3), "sms")], NOW, sms_cap, channel="email")


def test_a_zero_cap_allows_nothing_and_no_caps_allow_everything() -> None:
    assert not allowed([], NOW, [FrequencyCap(0, 1)])
    assert allowed(days_ago(*range(50)), NOW, [])


def test_a_cap_needs_a_window_of_a_day_or_more() -> None:
    with pytest.raises(InvalidInput) as error:
        FrequencyCap(3, 0)
    assert error.value.field == "per_days"


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        # Madrid is UTC+2 in summer: 22:30 local → 08:00 local the next day.
        (utc(2025, 6, 1, 20, 30), "Europe/Madrid", utc(2025, 6, 2, 6, 0)),
        # 05:00 local, after midnight → 08:00 the same day.
        (utc(2025, 6, 1, 3, 0), "Europe/Madrid", utc(2025, 6, 1, 6, 0)),
        # 14:00 local is not quiet: now.
        (utc(2025, 6, 1, 12, 0), "Europe/Madrid", utc(2025, 6, 1, 12, 0)),
        # New York (UTC-4): 22:00 local → 08:00 local = 12:00 UTC.
        (utc(2025, 6, 2, 2, 0), "America/New_York", utc(2025, 6, 2, 12, 0)),
        # No zone, or an unknown one: UTC.
        (utc(2025, 6, 1, 23, 0), None, utc(2025, 6, 2, 8, 0)),
        (utc(2025, 6, 1, 23, 0), "Mars/Olympus", utc(2025, 6, 2, 8, 0)),
        # The end itself is allowed; the start is quiet.
        (utc(2025, 6, 1, 8, 0), "UTC", utc(2025, 6, 1, 8, 0)),
        (utc(2025, 6, 1, 21, 0), "UTC", utc(2025, 6, 2, 8, 0)),
    ],
)
def test_next_allowed_moment_in_the_contacts_zone(
    now: dt.datetime, zone: str | None, expected: dt.datetime
) -> None:
    assert next_allowed(now, zone, QuietHours()) == expected


def test_a_window_within_one_day() -> None:
    lunch = QuietHours("12:00", "14:00")
    assert next_allowed(utc(2025, 6, 1, 13, 0), "UTC", lunch) == utc(2025, 6, 1, 14, 0)
    assert next_allowed(utc(2025, 6, 1, 11, 59), "UTC", lunch) == utc(2025, 6, 1, 11, 59)
    assert next_allowed(utc(2025, 6, 1, 14, 0), "UTC", lunch) == utc(2025, 6, 1, 14, 0)


def test_equal_start_and_end_mean_no_quiet_hours() -> None:
    assert not is_quiet(utc(2025, 6, 1, 3, 0), "UTC", QuietHours("08:00", "08:00"))


def test_a_quiet_end_skipped_by_spring_forward_ends_at_the_jump() -> None:
    # Madrid, 30 March 2025: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 never happens.
    quiet = QuietHours("21:00", "02:30")
    assert next_allowed(utc(2025, 3, 29, 22, 0), "Europe/Madrid", quiet) == utc(2025, 3, 30, 1, 0)


def test_a_quiet_end_repeated_by_fall_back_ends_at_its_first_occurrence() -> None:
    # Madrid, 26 October 2025: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    quiet = QuietHours("21:00", "02:30")
    assert next_allowed(utc(2025, 10, 25, 22, 0), "Europe/Madrid", quiet) == utc(
        2025, 10, 26, 0, 30
    )


def test_a_normal_end_on_a_dst_day_follows_the_new_offset() -> None:
    # 08:00 Madrid on 30 March 2025 is already summer time: 06:00 UTC (winter would be 07:00).
    assert next_allowed(utc(2025, 3, 29, 22, 0), "Europe/Madrid", QuietHours()) == utc(
        2025, 3, 30, 6, 0
    )


def test_quiet_hours_reject_malformed_times() -> None:
    with pytest.raises(InvalidInput) as error:
        QuietHours("25:00", "08:00")
    assert error.value.field == "start"


ZONES = st.sampled_from(
    ["UTC", "Europe/Madrid", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
)
CLOCK = st.sampled_from(["00:00", "02:30", "06:00", "08:00", "12:00", "21:00", "23:30"])


@given(
    moment=st.datetimes(
        min_value=dt.datetime(2024, 1, 1),
        max_value=dt.datetime(2027, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    zone=ZONES,
    start=CLOCK,
    end=CLOCK,
)
def test_next_allowed_is_never_quiet_never_earlier_and_within_a_day(
    moment: dt.datetime, zone: str, start: str, end: str
) -> None:
    quiet = QuietHours(start, end)
    found = next_allowed(moment, zone, quiet)
    assert found >= moment
    assert found - moment <= dt.timedelta(hours=25)
    assert not is_quiet(found, zone, quiet)
    # nothing earlier was free: one second before is quiet (or before now)
    if found > moment:
        assert is_quiet(max(moment, found - dt.timedelta(seconds=1)), zone, quiet)


def test_a_hold_names_the_hours_the_zone_and_the_local_end() -> None:
    from lealta.channels.policy import hold_reason

    until = dt.datetime(2025, 6, 3, 6, 0, tzinfo=dt.UTC)
    hours = QuietHours("21:00", "08:00")
    assert hours.key == "quiet_hours 21:00-08:00"
    assert hold_reason(hours, "Europe/Rome", until) == (
        "quiet hours 21:00-08:00 in Europe/Rome until 2025-06-03 08:00 local time"
    )
    assert hold_reason(hours, None, until) == (
        "quiet hours 21:00-08:00 in UTC (the contact has no time zone)"
        " until 2025-06-03 06:00 local time"
    )
    assert hold_reason(hours, "Mars/Olympus", until).startswith(
        "quiet hours 21:00-08:00 in UTC (time zone 'Mars/Olympus' is unknown)"
    )
