"""Report rates: what they are out of, and what they say when there is nothing to divide."""

from __future__ import annotations

from decimal import Decimal

from lealta.cli.reports import to_csv
from lealta.feedback.reports import MessageStats, ratio


def test_rates_are_out_of_messages_sent_and_not_bounced() -> None:
    stats = MessageStats({"template": "welcome"}, sent=210, bounced=10, opened_unique=50)
    stats.clicked_unique, stats.unsubscribed, stats.converters = 10, 2, 4
    stats.delivered = 120  # reported by some providers only: not what rates are out of
    rates = stats.rates()
    assert stats.base == 200
    assert rates["open_rate"] == 0.25
    assert rates["click_rate"] == 0.05
    assert rates["click_to_open"] == 0.2
    assert rates["unsubscribe_rate"] == 0.01
    assert rates["bounce_rate"] == 0.0476  # bounces are out of sends
    assert rates["conversion_rate"] == 0.02


def test_everything_bounced_leaves_no_base() -> None:
    stats = MessageStats({"channel": "email"}, sent=3, bounced=3)
    assert stats.base == 0
    assert stats.rates()["open_rate"] is None
    assert stats.rates()["bounce_rate"] == 1.0


def test_nothing_sent_gives_no_rates_rather_than_zero() -> None:
    rates = MessageStats({"template": "x"}).rates()
    assert set(rates.values()) == {None}
    assert ratio(1, 3) == 0.3333


def test_a_step_row_is_labelled_by_workflow_and_step_and_flattens_for_csv() -> None:
    stats = MessageStats({"workflow": "welcome-series", "step": "day-3"}, sent=2)
    stats.revenue = Decimal("12.50")
    assert stats.label == "welcome-series / day-3"
    lines = to_csv([stats]).splitlines()
    assert lines[0].startswith("workflow,step,sent,delivered,bounced,opened_unique")
    assert lines[1].startswith("welcome-series,day-3,2,0,0,0")
    assert ",12.50," in lines[1]
    assert to_csv([]) == ""
