"""Dates and times that come from outside, kept to a sane range (pure).

Python's datetimes stop at years 1 and 9999; ``0001-01-01T00:00:00+14:00`` is a valid ISO
date whose UTC equivalent is not representable, and clock-skew arithmetic can push a sane date
off either end. Every date a caller sends (tracking ``timestamp``/``sentAt``, order
``placed_at``, query filters, typed attributes) goes through :func:`utc_in_range`, directly or
as the pydantic type :data:`Moment`: normalised to UTC, and refused outside the years
:data:`EARLIEST_YEAR` to :data:`LATEST_YEAR`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator

EARLIEST_YEAR = 1900
LATEST_YEAR = 2200
EARLIEST = dt.datetime(EARLIEST_YEAR, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(LATEST_YEAR + 1, 1, 1, tzinfo=dt.UTC)


class OutOfRange(ValueError):
    """A date outside the years Lealta accepts (a ``ValueError``, so pydantic reports it)."""


def utc_in_range(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC (a zone-less time is taken as UTC).

    Raises
    ------
    OutOfRange
        When it falls before 1900 or after 2200 in UTC (or cannot be expressed in UTC at all).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        utc = moment.astimezone(dt.UTC)
    except OverflowError:
        raise OutOfRange(_OUT_OF_RANGE) from None
    if not EARLIEST <= utc < LATEST:
        raise OutOfRange(_OUT_OF_RANGE)
    return utc


def shifted(moment: dt.datetime, by: dt.timedelta) -> dt.datetime:
    """``moment + by``, refused (:class:`OutOfRange`) when it leaves the accepted years."""
    try:
        return utc_in_range(moment + by)
    except OverflowError:
        raise OutOfRange(_OUT_OF_RANGE) from None


_OUT_OF_RANGE = f"must lie between the years {EARLIEST_YEAR} and {LATEST_YEAR} (in UTC)"

Moment = Annotated[dt.datetime, AfterValidator(utc_in_range)]
"""A date and time from outside: normalised to UTC, years 1900 to 2200 only."""
