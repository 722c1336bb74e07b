"""Dates from outside are normalised to UTC and kept to the years 1900 to 2200."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import TypeAdapter, ValidationError

from lealta.moments import Moment, OutOfRange, shifted, utc_in_range


def test_a_date_is_normalised_to_utc_and_a_zoneless_one_taken_as_utc() -> None:
    tokyo = dt.datetime(2024, 1, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    assert utc_in_range(tokyo) == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert utc_in_range(dt.datetime(2024, 1, 1)).tzinfo is dt.UTC


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "1899-12-31T23:59:59Z",
        "2201-01-01T00:00:00Z",
    ],
)
def test_dates_beyond_the_range_or_beyond_python_are_refused(text: str) -> None:
    with pytest.raises(OutOfRange, match="between the years 1900 and 2200"):
        utc_in_range(dt.datetime.fromisoformat(text))
    with pytest.raises(ValidationError, match="1900 and 2200"):
        TypeAdapter(Moment).validate_python(text)


def test_shifting_off_the_calendar_is_refused_not_an_overflow() -> None:
    with pytest.raises(OutOfRange):
        shifted(dt.datetime(2200, 1, 1, tzinfo=dt.UTC), dt.timedelta(days=3_000_000))
    assert shifted(dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.timedelta(days=1)).day == 2
