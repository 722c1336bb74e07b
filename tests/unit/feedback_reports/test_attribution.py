"""Which message a purchase is credited to: the last click in the window before it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from lealta.feedback.attribution import Purchase, Touch, credit

T0 = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
DAYS_5 = dt.timedelta(days=5)


def buy(order: str, at: dt.datetime, who: str = "c1", amount: str = "40.00") -> Purchase:
    return Purchase(order, who, at, Decimal(amount))


def click(outbox: int, at: dt.datetime, who: str = "c1") -> Touch:
    return Touch(outbox, who, "clicked", at)


def opened(outbox: int, at: dt.datetime, who: str = "c1") -> Touch:
    return Touch(outbox, who, "opened", at)


def credited(purchases: list[Purchase], touches: list[Touch], **kw: bool) -> dict[str, int]:
    return {c.order_id: c.outbox_id for c in credit(purchases, touches, window=DAYS_5, **kw)}


def test_the_last_click_before_the_purchase_wins() -> None:
    touches = [
        click(1, T0),
        click(2, T0 + dt.timedelta(days=1)),
        click(3, T0 + dt.timedelta(days=3)),
    ]
    assert credited([buy("o1", T0 + dt.timedelta(days=2))], touches) == {"o1": 2}


def test_the_window_includes_its_last_moment_and_not_one_second_more() -> None:
    touches = [click(1, T0)]
    assert credited([buy("o1", T0 + DAYS_5)], touches) == {"o1": 1}
    assert credited([buy("o2", T0 + DAYS_5 + dt.timedelta(seconds=1))], touches) == {}


def test_a_click_at_the_moment_of_purchase_counts_and_one_after_does_not() -> None:
    assert credited([buy("o1", T0)], [click(1, T0)]) == {"o1": 1}
    assert credited([buy("o1", T0)], [click(1, T0 + dt.timedelta(seconds=1))]) == {}


def test_someone_elses_click_never_counts() -> None:
    assert credited([buy("o1", T0 + dt.timedelta(hours=1))], [click(1, T0, who="c2")]) == {}


def test_opens_count_only_when_asked_and_only_without_a_click() -> None:
    later = T0 + dt.timedelta(days=1)
    purchase = [buy("o1", later + dt.timedelta(hours=1))]
    assert credited(purchase, [opened(5, later)]) == {}
    assert credited(purchase, [opened(5, later)], opens=True) == {"o1": 5}
    # An older click beats a newer open: opens are only the fallback.
    assert credited(purchase, [click(4, T0), opened(5, later)], opens=True) == {"o1": 4}


def test_a_tie_goes_to_the_higher_outbox_id_whatever_the_order() -> None:
    purchase = [buy("o1", T0 + dt.timedelta(hours=1))]
    assert credited(purchase, [click(7, T0), click(3, T0)]) == {"o1": 7}
    assert credited(purchase, [click(3, T0), click(7, T0)]) == {"o1": 7}


def test_an_order_is_credited_once_with_its_revenue() -> None:
    purchase = buy("o1", T0 + dt.timedelta(hours=1), amount="99.90")
    found = credit([purchase, purchase], [click(1, T0)], window=DAYS_5)
    assert len(found) == 1
    assert (found[0].revenue, found[0].touch, found[0].touched_at) == (
        Decimal("99.90"),
        "clicked",
        T0,
    )


hours = st.integers(min_value=-200, max_value=200)


@given(st.lists(hours, min_size=1, max_size=8), hours)
def test_the_credited_click_is_the_latest_eligible_one(
    click_hours: list[int], buy_hour: int
) -> None:
    touches = [click(i, T0 + dt.timedelta(hours=h)) for i, h in enumerate(click_hours)]
    placed = T0 + dt.timedelta(hours=buy_hour)
    found = credit([buy("o", placed)], touches, window=DAYS_5)
    eligible = [t for t in touches if t.at <= placed <= t.at + DAYS_5]
    if not eligible:
        assert found == []
        return
    assert len(found) == 1
    chosen = next(t for t in touches if t.outbox_id == found[0].outbox_id)
    assert chosen in eligible
    assert all(t.at <= chosen.at for t in eligible)
