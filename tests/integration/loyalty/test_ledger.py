"""The points ledger on SQLite and PostgreSQL: earning from orders with the tier multiplier,
bonus events with caps, returns, expiry and its warning with a frozen clock, adjustments,
redemptions into vouchers, the liability report, events and the workflows they start."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from lealta.automations.tables import Run
from lealta.contacts.tables import Contact
from lealta.errors import Conflict, InvalidInput, NotFound
from lealta.identity.service import merge
from lealta.loyalty import ledger, service
from lealta.loyalty.points_sweeps import sweep
from lealta.loyalty.tables import ContactTier
from lealta.vouchers.tables import Voucher
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import ids
from tests.integration.loyalty.points_helpers import (
    START,
    entries,
    events,
    order,
    track,
    with_points,
)

DAY = dt.timedelta(days=1)


def _program(api: Api) -> service.Stored:
    with api.services.uow.transaction() as session:
        return service.require(session)


def _adjust(api: Api, cid: str, points: int, key: str, reason: str = "goodwill") -> None:
    stored = _program(api)
    ledger.write(
        api.services.uow,
        lambda s: ledger.adjust(
            s,
            cid,
            stored.program,
            points=points,
            reason=reason,
            key=key,
            now=api.services.clock.now(),
            actor="test",
        ),
    )


def _redeem(api: Api, cid: str, option: str, key: str) -> ledger.Redemption:
    stored = _program(api)
    return ledger.write(
        api.services.uow,
        lambda s: ledger.redeem(
            s, cid, stored.program, option=option, key=key, now=api.services.clock.now(), actor="t"
        ),
    )


def _balance(api: Api, cid: str) -> ledger.Balance:
    with api.services.uow.transaction() as session:
        return ledger.balance(
            session, cid, _program(api).program, today=api.services.clock.now().date()
        )


def test_orders_earn_once_each_with_the_tier_multiplier_and_tell_the_timeline(api: Api) -> None:
    clock = with_points(api)
    automation = """
id: points-thanks
name: Thanks for earning points
trigger:
  type: event
  event: Loyalty Points Earned
  where: [{property: kind, op: equals, value: earn}]
steps:
  - {id: pause, type: wait, duration: 1d}
"""
    made = api.client.post(
        "/v1/automations",
        content=automation,
        headers={**api.admin, "Content-Type": "application/yaml"},
    )
    assert made.status_code == 201, made.text
    assert api.client.post("/v1/automations/points-thanks/enable", headers=api.admin).is_success
    order(api, "ana", "old-1", START - 40 * DAY, "500.00")  # before the 30-day lookback
    order(api, "ana", "a-1", START - 2 * DAY, "120.50")
    order(api, "ben", "b-1", START - DAY, "80.99")
    who = ids(api, "ana", "ben")
    with api.services.uow.transaction() as session:
        session.add(
            ContactTier(
                contact_id=who["ana"], tier="Gold", tier_rank=2, since=START.date(),
                until=None, falling_since=None, score_sum=None, qualified_by="test",
                program_version=1, computed_at=START,
            )
        )  # fmt: skip

    swept = sweep(api.services)
    assert swept is not None
    assert (swept.orders, swept.earned) == (2, 241 + 80)
    [ana] = entries(api, who["ana"])
    assert (ana.kind, ana.points, ana.balance, ana.seq, ana.order_id) == (
        "earn",
        241,
        241,
        1,
        "a-1",
    )
    assert ana.expires_on == START.date() + 90 * DAY
    assert "x 2 (Gold)" in ana.reason
    assert [(e.points, e.balance) for e in entries(api, who["ben"])] == [(80, 80)]

    again = sweep(api.services)  # nothing new: no entry, no event, no run twice
    assert again is not None
    assert (again.orders, again.earned) == (0, 0)
    earned = events(api, "Loyalty Points Earned")
    assert sorted((cid, p["points"], p["order_id"]) for cid, p in earned) == sorted(
        [(who["ana"], 241, "a-1"), (who["ben"], 80, "b-1")]
    )
    with api.services.uow.transaction() as session:
        runs = sorted(
            session.scalars(select(Run.contact_id).where(Run.workflow_id == "points-thanks"))
        )
    assert runs == sorted(who.values())

    clock.advance(days=1)
    order(api, "ben", "b-2", clock.now(), "10")
    swept = sweep(api.services)
    assert swept is not None
    assert swept.orders == 1
    assert [e.balance for e in entries(api, who["ben"])] == [80, 90]


def test_bonus_events_earn_within_their_caps_and_conditions(api: Api) -> None:
    clock = with_points(api)
    for n in range(3):
        track(api, "cruz", "Review Submitted", clock.now(), product=f"p{n}")
    track(api, "cruz", "content_shared", clock.now(), network="facebook")  # condition fails
    track(api, "cruz", "content_shared", clock.now(), network="instagram")
    cid = ids(api, "cruz")["cruz"]
    swept = sweep(api.services)
    assert swept is not None
    found = [(e.kind, e.rule, e.points, e.balance) for e in entries(api, cid)]
    assert found == [
        ("bonus", "Review Submitted", 40, 40),
        ("bonus", "Review Submitted", 20, 60),  # the day's cap of 60
        ("bonus", "Review Submitted", 0, 60),  # capped: recorded, so it is not tried again
        ("bonus", "advocacy", 15, 75),
    ]
    assert "cut to 0 by the rule's caps" in entries(api, cid)[2].reason
    assert len(events(api, "Loyalty Points Earned")) == 3  # none for the capped one

    clock.advance(days=1)
    track(api, "cruz", "Review Submitted", clock.now(), product="p3")
    track(api, "cruz", "Review Submitted", clock.now(), product="p4")
    sweep(api.services)
    sweep(api.services)
    assert [e.points for e in entries(api, cid)][4:] == [40, 0]  # the month's cap of 100


def test_a_returned_order_takes_its_points_back_never_below_zero(api: Api) -> None:
    clock = with_points(api)
    order(api, "dana", "d-1", START - DAY, "100")
    order(api, "dana", "d-2", START - DAY, "200")
    cid = ids(api, "dana")["dana"]
    sweep(api.services)
    _adjust(api, cid, -250, "spent", reason="redeemed in the shop by phone")
    assert _balance(api, cid).balance == 50

    track(api, "dana", "Order Refunded", clock.now(), order_id="d-2", total=50)  # a quarter
    track(api, "dana", "Order Refunded", clock.now(), order_id="d-1")  # all of it
    track(api, "dana", "Order Refunded", clock.now(), order_id="nobody-ordered-this")
    swept = sweep(api.services)
    assert swept is not None
    back = [(e.kind, e.order_id, e.points, e.balance) for e in entries(api, cid)[3:]]
    assert back == [("return", "d-2", -50, 0), ("return", "d-1", 0, 0)]
    assert (swept.returns, swept.returned, swept.not_recovered) == (2, 50, 100)
    assert (
        "0 of the 100 points it earned taken back; 100 not recovered" in entries(api, cid)[4].reason
    )
    assert sweep(api.services).returns == 0  # type: ignore[union-attr]


def test_points_expire_on_their_day_after_one_warning(api: Api) -> None:
    clock = with_points(api)
    order(api, "eve", "e-1", START - DAY, "100")
    cid = ids(api, "eve")["eve"]
    sweep(api.services)  # 100 points expiring on START + 90 days
    clock.advance(days=40)
    order(api, "eve", "e-2", clock.now(), "60")  # 60 more, expiring 40 days later
    sweep(api.services)
    _adjust(api, cid, -30, "spend")  # spends the soonest-expiring first

    clock.advance(days=40)  # 10 days before the first expiry: inside warn_days (14)
    sweep(api.services)
    sweep(api.services)
    warned = events(api, "Loyalty Points Expiring")
    expiry = (START + 90 * DAY).date()
    assert warned == [
        (cid, {"points": 70, "expires_on": expiry.isoformat(), "days_left": 10, "balance": 130})
    ]
    assert _balance(api, cid).expiring[0] == (expiry, 70)

    clock.advance(days=10)  # the expiry day
    swept = sweep(api.services)
    assert swept is not None
    assert (swept.expired_contacts, swept.expired) == (1, 70)
    last = entries(api, cid)[-1]
    assert (last.kind, last.points, last.balance) == ("expire", -70, 60)
    assert sweep(api.services).expired == 0  # type: ignore[union-attr]
    clock.advance(days=40)
    sweep(api.services)
    assert [e.balance for e in entries(api, cid)][-1] == 0


def test_redemptions_pay_a_voucher_once_per_key_and_need_the_points(api: Api) -> None:
    with_points(api)
    order(api, "finn", "f-1", START - DAY, "650")
    cid = ids(api, "finn")["finn"]
    sweep(api.services)
    first = _redeem(api, cid, "eur5", "checkout-1")
    again = _redeem(api, cid, "EUR5", "checkout-1")
    assert again.voucher.code == first.voucher.code
    assert (first.entry.points, first.entry.balance) == (-500, 150)
    assert first.entry.voucher_code == first.voucher.code
    assert (first.voucher.kind, first.voucher.value, first.voucher.currency) == (
        "amount",
        Decimal("5.00"),
        "EUR",
    )
    with pytest.raises(Conflict, match="the balance is 150, 200 are needed"):
        _redeem(api, cid, "SHIP", "checkout-2")
    with pytest.raises(InvalidInput) as bad:
        _redeem(api, cid, "EUR50", "checkout-3")
    assert bad.value.field == "option"
    with api.services.uow.transaction() as session:
        assert len(list(session.scalars(select(Voucher)))) == 1


def test_adjustments_need_a_reason_and_never_take_the_balance_below_zero(api: Api) -> None:
    with_points(api)
    order(api, "gus", "g-1", START - DAY, "10")
    cid = ids(api, "gus")["gus"]
    with pytest.raises(InvalidInput) as caught:
        _adjust(api, cid, 5, "k1", reason="  ")
    assert caught.value.field == "reason"
    with pytest.raises(InvalidInput) as caught:
        _adjust(api, cid, 0, "k2")
    assert caught.value.field == "points"
    with pytest.raises(Conflict, match="the balance is 0, 11 are needed"):
        _adjust(api, cid, -11, "k3")
    _adjust(api, cid, 25, "k4", reason="sorry for the late parcel")
    _adjust(api, cid, 25, "k4", reason="sorry for the late parcel")  # a retry: once
    [entry] = entries(api, cid)
    assert (entry.kind, entry.points, entry.reason, entry.actor) == (
        "adjust", 25, "sorry for the late parcel", "test"
    )  # fmt: skip
    assert entry.expires_on == START.date() + 90 * DAY
    with pytest.raises(NotFound):
        _adjust(api, "no-such-contact", 5, "k5")


def test_the_liability_report_adds_up_balances_and_their_value(api: Api) -> None:
    clock = with_points(api)
    order(api, "hal", "h-1", START - DAY, "300")
    order(api, "ida", "i-1", START - DAY, "45")
    who = ids(api, "hal", "ida")
    sweep(api.services)
    _redeem(api, who["hal"], "SHIP", "r1")
    with api.services.uow.transaction() as session:
        report = ledger.liability(session, _program(api).program, today=clock.now().date())
    assert (report.points, report.value, report.holders) == (145, Decimal("1.45"), 2)
    assert (report.earned, report.redeemed, report.expired) == (345, 200, 0)
    assert report.expiring_30_days == 0
    clock.advance(days=70)
    with api.services.uow.transaction() as session:
        report = ledger.liability(session, _program(api).program, today=clock.now().date())
    assert report.expiring_30_days == 145


def test_a_programme_without_points_sweeps_nothing(api: Api) -> None:
    with_points(api, "name: Plain\ntiers: [{name: Member}]\n")
    order(api, "jo", "j-1", START - DAY, "45")
    assert sweep(api.services) is None


def test_templates_see_the_balance_and_what_expires_even_in_no_tier(api: Api) -> None:
    clock = with_points(api)
    order(api, "kim", "k-1", START - DAY, "250")
    cid = ids(api, "kim")["kim"]
    sweep(api.services)
    clock.advance(days=70)  # 20 days before the 250 points expire
    body = {
        "subject": "{{ loyalty.points.balance }} points ({{ loyalty.points.value }} EUR)",
        "text": (
            "tier: {{ loyalty.tier or 'none' }}; {{ loyalty.points.next_expiry.points }} "
            "expire on {{ loyalty.points.next_expiry.expires_on }}"
        ),
    }
    shown = api.client.post(
        "/v1/templates/points-news/preview",
        json={"contact_id": cid, "channel": "email", "body": body},
        headers=api.admin,
    )
    assert shown.status_code == 200, shown.text
    parts = shown.json()["parts"]
    assert parts["subject"] == "250 points (2.50 EUR)"
    expiry = (START + 90 * DAY).date()
    assert parts["text"].strip() == f"tier: none; 250 expire on {expiry.isoformat()}"


def test_a_merged_profile_s_points_move_to_the_survivor_with_their_expiry(api: Api) -> None:
    clock = with_points(api)
    order(api, "lea", "l-1", START - DAY, "100")
    order(api, "max", "m-1", START - DAY, "80")
    track(api, "max", "Review Submitted", START - DAY, product="p1")
    who = ids(api, "lea", "max")
    sweep(api.services)
    clock.advance(days=10)
    _adjust(api, who["max"], 30, "no-expiry-later", reason="welcome gift")
    _adjust(api, who["max"], -130, "spend", reason="phone order")  # the soonest points first
    with api.services.uow.transaction() as session:
        source, into = session.get(Contact, who["max"]), session.get(Contact, who["lea"])
        assert source is not None
        assert into is not None
        merge(session, source, into=into, now=clock.now())
    swept = sweep(api.services)
    assert swept is not None
    assert swept.merged == 20
    moved = [(e.kind, e.points, e.balance, e.expires_on) for e in entries(api, who["max"])]
    assert moved[-1] == ("adjust", -20, 0, None)
    kept = [(e.points, e.balance, e.expires_on, e.reason) for e in entries(api, who["lea"])]
    assert kept[1:] == [(20, 120, (START + 100 * DAY).date(), f"merged from {who['max']}")]
    again = sweep(api.services)
    assert again is not None
    assert (again.merged, again.bonuses) == (0, 0)  # the review moved, and stays credited
    # the merged profile's order, refunded now, takes its points from the survivor
    track(api, "lea", "Order Refunded", clock.now(), order_id="m-1")
    sweep(api.services)
    last = entries(api, who["lea"])[-1]
    assert (last.kind, last.points, last.balance) == ("return", -80, 40)
