"""The shipped loyalty workflows imported as they are and started by real tier reviews, run by
the real runner (SQLite and PostgreSQL, frozen clock): an upgrade's welcome with the tier's
codes, its reminder two weeks later, and a fall's "keep your tier" e-mail."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lealta.automations.runner import advance_all
from lealta.bootstrap import Services
from lealta.loyalty import service as loyalty
from lealta.loyalty.points_sweeps import sweep
from lealta.messages.service import render_for
from tests.integration.automations.test_templates_live import _install, _outbox
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import PROGRAM, at, ids, post_orders

D = dt.date


def _program(api: Api) -> None:
    answer = api.client.put(
        "/v1/loyalty/program",
        content=PROGRAM,
        headers=api.admin | {"Content-Type": "application/yaml"},
    )
    assert answer.status_code == 200, answer.text


def _review(api: Api, day: dt.date) -> loyalty.Review:
    """A tier review on ``day`` (clock frozen at noon), then the runner's work that day."""
    services = at(api.services, day)
    done = loyalty.apply_program(services, as_of=day)
    assert done is not None
    advance_all(services)
    return done


def _words(api: Api, day: dt.date, row: tuple[str, str, dict[str, Any]]) -> dict[str, str]:
    """The outbox ``row`` rendered as the sender would on ``day``, whitespace collapsed."""
    contact_id, template, payload = row
    services: Services = at(api.services, day)
    with services.uow.transaction() as session:
        parts = render_for(
            session,
            services.settings,
            template_id=template,
            contact_id=contact_id,
            payload=payload,
            now=services.clock.now(),
        )
    return {name: " ".join(str(value).split()) for name, value in parts.items()}


def test_an_upgrade_is_welcomed_with_the_codes_then_reminded_after_two_weeks(api: Api) -> None:
    _program(api)
    _install(api, "loyalty-tier-welcome", "loyalty-tier-reminder")
    days = [D(2026, 1, 10), D(2026, 2, 10), D(2026, 3, 10), D(2026, 4, 10)]
    post_orders(api, [("ana", f"a{n}", day, "40") for n, day in enumerate(days)])
    ana = ids(api, "ana")["ana"]
    first = _review(api, D(2026, 5, 1))
    assert (first.tiers["Gold"], first.upgraded) == (1, 1)
    [welcome] = _outbox(api)
    assert welcome[:2] == (ana, "loyalty-tier-welcome")
    mail = _words(api, D(2026, 5, 1), welcome)
    assert mail["subject"] == "Good news, you are now Gold"
    for code in ("SHIP50", "GOLD10"):  # Member's shipping kept, Gold's discount
        assert code in mail["text"]
    assert "Gold is our highest tier." in mail["text"]
    assert "until at least 31 December 2027" in mail["text"]

    advance_all(at(api.services, D(2026, 5, 14)))
    assert len(_outbox(api)) == 1
    advance_all(at(api.services, D(2026, 5, 16)))
    reminder = _outbox(api)[1]
    assert reminder[:2] == (ana, "loyalty-tier-reminder")
    words = _words(api, D(2026, 5, 16), reminder)
    assert words["subject"] == "Your Gold benefits are waiting"
    assert "Code at checkout: GOLD10" in words["text"]


def test_an_order_after_the_welcome_spares_the_reminder(api: Api) -> None:
    _program(api)
    _install(api, "loyalty-tier-welcome", "loyalty-tier-reminder")
    post_orders(api, [("ben", "b1", D(2026, 3, 1), "30"), ("ben", "b2", D(2026, 4, 1), "30")])
    assert _review(api, D(2026, 5, 1)).tiers["Silver"] == 1
    post_orders(api, [("ben", "b3", D(2026, 5, 5), "30")])
    advance_all(at(api.services, D(2026, 5, 20)))
    assert [template for _, template, _ in _outbox(api)] == ["loyalty-tier-welcome"]


def _fall(api: Api) -> dict[str, str]:
    """Ana reaches Gold on 1 May 2026, then a year without orders: the review of 1 May 2027
    finds her qualifying for no more than Member (Gold is kept to the end of 2027, then 30
    days' grace). The words of the e-mail the at-risk workflow sends her."""
    _program(api)
    _install(api, "loyalty-tier-at-risk")
    days = [D(2026, 1, 10), D(2026, 2, 10), D(2026, 3, 10), D(2026, 4, 10)]
    post_orders(api, [("ana", f"a{n}", day, "40") for n, day in enumerate(days)])
    assert _review(api, D(2026, 5, 1)).tiers["Gold"] == 1
    assert _outbox(api) == []  # an upgrade starts no at-risk run
    fall = _review(api, D(2027, 5, 1))
    assert (fall.tiers["Gold"], fall.at_risk) == (1, 1)
    [told] = _outbox(api)
    assert told[1] == "loyalty-tier-at-risk"
    assert _review(api, D(2027, 6, 1)).tiers["Gold"] == 1
    assert len(_outbox(api)) == 1  # once per fall
    return _words(api, D(2027, 5, 1), told)


def test_a_member_who_starts_falling_is_told_once_with_the_codes_kept_meanwhile(
    api: Api,
) -> None:
    words = _fall(api)
    assert words["subject"] == "Keep your Gold status"
    assert "no longer quite enough for Gold" in words["text"]
    assert "Code at checkout: GOLD10" in words["text"]
    assert "Code at checkout: SHIP50" in words["text"]


def test_the_fall_e_mail_names_the_drop_day_the_lower_tier_and_what_keeps_gold(
    api: Api,
) -> None:
    words = _fall(api)
    assert "on 31 January 2028 you would move to Silver" in words["text"]
    assert words["subject"] == "Keep your Gold status"  # the rule is more than an order away
    assert (
        "To stay Gold, you need at least 4 orders in 365 days or at least €500 spent in 365 days."
    ) in words["text"]


def test_the_seasonal_invitation_goes_only_to_quiet_big_spenders_in_a_tier(api: Api) -> None:
    eligible_only = PROGRAM.replace(
        "window_days: 365\n", "window_days: 365\neligibility: {orders: 2}\n"
    )
    answer = api.client.put(
        "/v1/loyalty/program",
        content=eligible_only,
        headers=api.admin | {"Content-Type": "application/yaml"},
    )
    assert answer.status_code == 200, answer.text
    _install(api, "loyalty-seasonal-reengagement")
    post_orders(
        api,
        [
            ("ana", "a1", D(2025, 12, 1), "180"),  # a big order, then a small one: eligible
            ("ana", "a2", D(2026, 6, 1), "40"),
            ("ben", "b1", D(2026, 5, 1), "150"),  # one big order: below eligibility
            ("cleo", "c1", D(2025, 11, 1), "120"),  # eligible, but ordered lately
            ("cleo", "c2", D(2026, 10, 20), "30"),
        ],
    )
    review = _review(api, D(2026, 10, 31))
    assert review.tiers == {"Member": 0, "Silver": 2, "Gold": 0}
    who = ids(api, "ana", "ben", "cleo")
    november = at(api.services, D(2026, 11, 1))
    api.services.clock = november.clock  # the API enrols on 1 November too
    for name in ("ana", "ben", "cleo"):
        enrolled = api.client.post(
            "/v1/automations/loyalty-seasonal-reengagement/runs",
            json={"contact_id": who[name], "entry_key": "season-2026"},
            headers=api.admin,
        )
        assert enrolled.json()["enrolled"], enrolled.text
    advance_all(november)
    sent = _outbox(api)
    assert [(contact, template) for contact, template, _ in sent] == [
        (who["ana"], "season-is-back")
    ]
    assert sent[0][2]["saved"]["voucher"]  # the 15% voucher the e-mail shows


POINTS = """
points:
  per_unit: 1
  expire_after_days: 365
  warn_days: 30
  point_value: 0.01
"""


def test_points_about_to_expire_are_told_with_the_balance_and_its_value(api: Api) -> None:
    answer = api.client.put(
        "/v1/loyalty/program",
        content=PROGRAM + POINTS,
        headers=api.admin | {"Content-Type": "application/yaml"},
    )
    assert answer.status_code == 200, answer.text
    _install(api, "loyalty-points-expiring")
    post_orders(api, [("ana", "a1", D(2026, 3, 1), "120.40")])
    credited = at(api.services, D(2026, 3, 2))
    assert sweep(credited, now=credited.clock.now()).earned == 120  # expire on 2 March 2027
    early = at(api.services, D(2027, 1, 20))
    assert sweep(early, now=early.clock.now()).warned == 0  # 41 days ahead: not yet
    advance_all(early)
    assert _outbox(api) == []
    warned = at(api.services, D(2027, 2, 10))
    assert sweep(warned, now=warned.clock.now()).warned == 1
    advance_all(warned)
    [told] = _outbox(api)
    assert told[1] == "loyalty-points-expiring"
    words = _words(api, D(2027, 2, 10), told)
    assert words["subject"] == "120 of your points expire on 2 March 2027"
    assert "120 of them on 2 March 2027, in 20 days." in words["text"]
    assert "Your balance: 120 points = €1.20" in words["text"]
    assert "member your next order" not in words["text"]  # Ana holds points, but no tier
    again = at(api.services, D(2027, 2, 11))
    assert sweep(again, now=again.clock.now()).warned == 0  # told once per expiry day


def test_the_welcome_says_what_it_takes_to_reach_the_next_tier_in_english_and_italian(
    api: Api,
) -> None:
    from lealta.contacts.tables import Contact

    _program(api)
    _install(api, "loyalty-tier-welcome")
    post_orders(
        api,
        [
            (name, f"{name}{n}", day, "30")
            for name in ("ben", "gia")
            for n, day in enumerate([D(2026, 3, 3), D(2026, 4, 1)])
        ],
    )
    who = ids(api, "ben", "gia")
    with api.services.uow.transaction() as session:
        gia = session.get(Contact, who["gia"])
        assert gia is not None
        gia.attributes = {**gia.attributes, "language": "it"}
    assert _review(api, D(2026, 5, 1)).tiers["Silver"] == 2
    mails = {row[0]: _words(api, D(2026, 5, 1), row) for row in _outbox(api)}
    # Gold: 4 orders or €500 in 365 days; the order of 3 March leaves them on 3 March 2027
    assert (
        "Next up: Gold. 2 more orders or €440 to Gold before 3 March 2027, with even more in "
        "store." in mails[who["ben"]]["text"]
    )
    assert (
        "Il prossimo livello: Gold. Ti mancano 2 ordini o 440,00 € per arrivare a Gold entro "
        "il 3 marzo 2027, con ancora più vantaggi." in mails[who["gia"]]["text"]
    )


def test_the_italian_at_risk_mail_says_the_exact_orders_and_spend_that_keep_gold(
    api: Api,
) -> None:
    from lealta.contacts.tables import Contact

    _program(api)
    _install(api, "loyalty-tier-at-risk")
    days = [D(2026, 1, 10), D(2026, 2, 10), D(2026, 3, 10), D(2026, 4, 10)]
    post_orders(api, [("gia", f"g{n}", day, "40") for n, day in enumerate(days)])
    gia = ids(api, "gia")["gia"]
    with api.services.uow.transaction() as session:
        contact = session.get(Contact, gia)
        assert contact is not None
        contact.attributes = {**contact.attributes, "language": "it"}
    assert _review(api, D(2026, 5, 1)).tiers["Gold"] == 1
    # a year on, two orders of €40 in the window: Silver's worth, Gold kept to the end of 2027
    post_orders(api, [("gia", "g5", D(2027, 3, 3), "40"), ("gia", "g6", D(2027, 4, 1), "40")])
    assert _review(api, D(2027, 5, 1)).at_risk == 1
    [told] = _outbox(api)
    properties = told[2]["trigger"]["properties"]  # type: ignore[index]
    assert (properties["keep_orders"], properties["keep_spend"]) == (2, 420.0)
    assert properties["keep_before"] == properties["drops_on"] == "2028-01-31"
    words = _words(api, D(2027, 5, 1), told)
    assert (
        "La buona notizia: ti bastano 2 ordini in più o 420,00 € di acquisti prima del "
        "31 gennaio 2028 per restare Gold." in words["text"]
    ), words["text"]
