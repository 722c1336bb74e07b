"""Message reports add up exactly: a week of sends, what followed, and the orders credited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from lealta.errors import InvalidInput
from lealta.feedback.attribution import attribute_since
from lealta.feedback.reports import message_report
from tests.integration.feedback_reports.conftest import T0, Shop

H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


@dataclass
class Week:
    shop: Shop
    ids: dict[str, int]


@pytest.fixture
def week(shop: Shop) -> Week:
    """Onboarding e-mails to Ana, Bea and Carl, tips to Ana, a promotion to Dan (e-mail) and Ana
    (SMS); one old and one unsent message that must not count; four orders."""
    ana, bea, carl, dan = (shop.person(f"{n}@example.com") for n in ("ana", "bea", "carl", "dan"))
    shop.workflow("onboarding")
    runs = {who: shop.run("onboarding", who) for who in (ana, bea, carl)}
    ids = {
        "m1": shop.sent(ana, run_id=runs[ana], step="day-0"),
        "m2": shop.sent(bea, run_id=runs[bea], step="day-0"),
        "m3": shop.sent(carl, run_id=runs[carl], step="day-0"),
        "m4": shop.sent(ana, template="tips", run_id=runs[ana], step="day-3", at=T0 + 3 * D),
        "m5": shop.sent(dan, template="promo"),
        "m6": shop.sent(ana, template="promo", channel="sms"),
        "old": shop.sent(bea, at=T0 - 30 * D),
        "unsent": shop.sent(dan, status="pending"),
    }
    steps: list[tuple[str, str, dt.timedelta]] = [
        ("m1", "delivered", 0 * H),
        ("m1", "opened", H),
        ("m1", "opened", 2 * H),
        ("m1", "clicked", H),
        ("m2", "delivered", 0 * H),
        ("m2", "opened", 5 * H),
        ("m2", "unsubscribed", 6 * H),
        ("m3", "bounced", H),
        ("m4", "opened", 3 * D + H),
        ("m4", "clicked", 3 * D + H),
        ("m4", "clicked", 3 * D + 2 * H),
        ("m5", "delivered", 0 * H),
        ("m5", "opened", H),
        ("m5", "clicked", H),
        ("m5", "complained", 2 * H),
        ("m6", "clicked", 2 * D),
        ("old", "opened", -29 * D),
    ]
    for name, kind, after in steps:
        shop.interact(ids[name], kind, T0 + after)
    shop.order(ana, "o1", T0 + D, "50.00")  # last click before: m1
    shop.order(ana, "o2", T0 + 4 * D, "20.00")  # last click before: m4 (after m6's)
    shop.order(dan, "o3", T0 + 2 * D, "15.50")  # m5
    shop.order(bea, "o4", T0 + D, "99.00")  # opened only: no credit by default
    shop.order(carl, "o5", T0 + 20 * D, "10.00")  # nothing clicked
    with shop.uow.transaction() as session:
        assert attribute_since(session, T0 - D, now=T0 + 30 * D) == 3
    return Week(shop, ids)


def report(week: Week, by: str, **kw: Any) -> dict[str, dict[str, Any]]:
    with week.shop.uow.transaction() as session:
        rows = message_report(session, by=by, **kw)
    return {row.label: row.as_dict() for row in rows}


WELCOME = {
    "sent": 3,
    "delivered": 2,
    "bounced": 1,
    "opened_unique": 2,
    "opened_total": 3,
    "clicked_unique": 1,
    "clicked_total": 1,
    "unsubscribed": 1,
    "complained": 0,
    "converted": 1,
    "converters": 1,
    "revenue": "50.00",
    "open_rate": 1.0,
    "click_rate": 0.5,
    "click_to_open": 0.5,
    "unsubscribe_rate": 0.5,
    "complaint_rate": 0.0,
    "bounce_rate": 0.3333,
    "conversion_rate": 0.5,
}
TIPS = {
    "sent": 1,
    "delivered": 0,
    "bounced": 0,
    "opened_unique": 1,
    "opened_total": 1,
    "clicked_unique": 1,
    "clicked_total": 2,
    "unsubscribed": 0,
    "complained": 0,
    "converted": 1,
    "converters": 1,
    "revenue": "20.00",
    "open_rate": 1.0,
    "click_rate": 1.0,
    "click_to_open": 1.0,
    "unsubscribe_rate": 0.0,
    "complaint_rate": 0.0,
    "bounce_rate": 0.0,
    "conversion_rate": 1.0,
}
PROMO = {
    "sent": 2,
    "delivered": 1,
    "bounced": 0,
    "opened_unique": 1,
    "opened_total": 1,
    "clicked_unique": 2,
    "clicked_total": 2,
    "unsubscribed": 0,
    "complained": 1,
    "converted": 1,
    "converters": 1,
    "revenue": "15.50",
    "open_rate": 0.5,
    "click_rate": 1.0,
    "click_to_open": 2.0,
    "unsubscribe_rate": 0.0,
    "complaint_rate": 0.5,
    "bounce_rate": 0.0,
    "conversion_rate": 0.5,
}
RANGE = {"since": T0 - D, "until": T0 + 10 * D}


def test_per_template(week: Week) -> None:
    found = report(week, "template", **RANGE)
    assert list(found) == ["welcome", "promo", "tips"]  # most sent first
    assert found["welcome"] == {"template": "welcome", **WELCOME}
    assert found["tips"] == {"template": "tips", **TIPS}
    assert found["promo"] == {"template": "promo", **PROMO}


def test_per_workflow_step(week: Week) -> None:
    found = report(week, "step", **RANGE)
    assert found["onboarding / day-0"] == {"workflow": "onboarding", "step": "day-0", **WELCOME}
    assert found["onboarding / day-3"] == {"workflow": "onboarding", "step": "day-3", **TIPS}
    assert found["(none) / (none)"] == {"workflow": "(none)", "step": "(none)", **PROMO}


def test_per_channel(week: Week) -> None:
    found = report(week, "channel", **RANGE)
    email, sms = found["email"], found["sms"]
    assert {
        k: email[k] for k in ("sent", "delivered", "bounced", "unsubscribed", "complained")
    } == {
        "sent": 5,
        "delivered": 3,
        "bounced": 1,
        "unsubscribed": 1,
        "complained": 1,
    }
    assert (email["opened_unique"], email["opened_total"]) == (3, 5)
    assert (email["clicked_unique"], email["clicked_total"]) == (2, 4)
    assert (email["converted"], email["converters"], email["revenue"]) == (3, 2, "85.50")
    assert (email["open_rate"], email["conversion_rate"]) == (0.75, 0.5)
    assert (sms["sent"], sms["clicked_unique"], sms["converted"], sms["revenue"]) == (
        1,
        1,
        0,
        "0.00",
    )


def test_per_workflow(week: Week) -> None:
    found = report(week, "workflow", **RANGE)
    onboarding = found["onboarding"]
    assert (onboarding["sent"], onboarding["converted"], onboarding["revenue"]) == (4, 2, "70.00")
    assert (onboarding["opened_unique"], onboarding["opened_total"]) == (2, 4)
    assert found["(none)"]["sent"] == 2


def test_the_range_selects_messages_by_send_time_until_excluded(week: Week) -> None:
    assert list(report(week, "template", since=T0 + 2 * D)) == ["tips"]
    assert "tips" not in report(week, "template", until=T0 + 3 * D)
    everything = report(week, "template")
    assert everything["welcome"]["sent"] == 4  # the old message too
    assert everything["welcome"]["opened_total"] == 4
    assert report(week, "template", since=T0 + 40 * D) == {}


def test_a_bad_grouping_or_range_is_refused(week: Week) -> None:
    with pytest.raises(InvalidInput) as caught:
        report(week, "colour")
    assert caught.value.field == "by"
    with pytest.raises(InvalidInput) as caught:
        report(week, "template", since=T0, until=T0)
    assert caught.value.field == "until"
