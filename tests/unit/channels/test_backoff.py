"""The retry schedule of the dispatcher."""

from __future__ import annotations

import datetime as dt

from lealta.channels.dispatcher import MAX_ATTEMPTS, backoff


def test_backoff_doubles_from_two_minutes_and_stops_at_six_hours() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [dt.timedelta(minutes=m) for m in (2, 4, 8)]
    assert backoff(8) == dt.timedelta(minutes=256)
    assert backoff(9) == dt.timedelta(hours=6)
    assert backoff(100) == dt.timedelta(hours=6)
    assert MAX_ATTEMPTS == 8
