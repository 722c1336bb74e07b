"""The migration matrix's pure parts: counts, order, moves, and what "on day D" means."""

from __future__ import annotations

import datetime as dt

import pytest

from lealta.errors import InvalidInput
from lealta.segmentation.movements import Movements, check_dates, end_of

FOUND = Movements(
    dt.date(2026, 1, 1),
    dt.date(2026, 2, 1),
    {("Lost", "Lost"): 4, ("Champions", "Lost"): 1, (None, "Zeta"): 2, ("Alpha", None): 3},
)


def test_counts_moves_and_the_order_of_segments() -> None:
    assert FOUND.count("Champions", "Lost") == 1
    assert FOUND.count("Lost", "Champions") == 0
    assert FOUND.moved() == 6  # stayers are not moves; new and gone are
    assert FOUND.segments(["Lost", "Champions", "Hibernating"]) == [
        "Lost",
        "Champions",
        "Alpha",
        "Zeta",
    ]


def test_on_day_d_means_before_the_next_midnight_utc() -> None:
    assert end_of(dt.date(2026, 12, 31)) == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def test_the_first_date_may_equal_but_not_follow_the_second() -> None:
    check_dates(dt.date(2026, 1, 1), dt.date(2026, 1, 1))
    with pytest.raises(InvalidInput) as refused:
        check_dates(dt.date(2026, 1, 2), dt.date(2026, 1, 1))
    assert refused.value.field == "from"
