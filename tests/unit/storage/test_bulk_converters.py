"""The bulk writer's quicker converters write exactly SQLAlchemy's text."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from lealta.storage.bulk import converter

DIALECT = sqlite.dialect()
MOMENT = DateTime(timezone=True)
SQLALCHEMYS = MOMENT.dialect_impl(DIALECT).bind_processor(DIALECT)
ZONES = st.sampled_from(
    [
        None,
        dt.UTC,
        dt.timezone(dt.timedelta(hours=-5)),
        dt.timezone(dt.timedelta(hours=5, minutes=30)),
    ]
)


@given(moment=st.datetimes(timezones=ZONES))
def test_a_moment_is_written_as_sqlalchemy_writes_it(moment: dt.datetime) -> None:
    convert = converter(MOMENT, DIALECT)
    assert convert is not None
    assert SQLALCHEMYS is not None
    assert convert(moment) == SQLALCHEMYS(moment)


def test_a_plain_date_and_none_go_through_sqlalchemys_own() -> None:
    convert = converter(MOMENT, DIALECT)
    assert convert is not None
    assert SQLALCHEMYS is not None
    day = dt.date(2026, 3, 1)
    assert convert(day) == SQLALCHEMYS(day)
    assert convert(None) is None


def test_a_repeated_moment_and_the_next_one_each_get_their_own_text() -> None:
    convert = converter(MOMENT, DIALECT)
    assert convert is not None
    first = dt.datetime(2026, 3, 1, 9, 0, 0, 1, tzinfo=dt.UTC)
    second = dt.datetime(2026, 3, 1, 9, 0, 0, 2, tzinfo=dt.UTC)
    written = [convert(moment) for moment in (first, first, second, first)]
    assert written == [
        "2026-03-01 09:00:00.000001",
        "2026-03-01 09:00:00.000001",
        "2026-03-01 09:00:00.000002",
        "2026-03-01 09:00:00.000001",
    ]
