"""The console's loyalty reports and preview on the store (SQLite and PostgreSQL): members and
revenue per tier, the migration matrix between two dates and the people behind a cell,
vouchers redeemed per tier, and a preview that counts without writing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from lealta.console.loyalty_card import loyalty_card, progress_words
from lealta.contacts.tables import Contact
from lealta.errors import InvalidInput
from lealta.loyalty import reports, service
from lealta.loyalty.preview import preview, warm
from lealta.loyalty.program import load_program
from lealta.loyalty.tables import ContactTier, TierChange
from lealta.segmentation.members import members_page
from lealta.segmentation.store import rfm_from_store
from lealta.vouchers import service as vouchers
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import PROGRAM, at, ids, post_orders, tiers

D = dt.date
FIRST, SECOND = D(2026, 3, 1), D(2026, 4, 1)


@pytest.fixture
def shop(api: Api) -> dict[str, str]:
    """Two reviews: on 1 March (ana Gold, ben Silver, cruz and dora Member) and on 1 April
    after cruz's second order (cruz Silver); eli orders after both, in no tier."""
    post_orders(
        api,
        [
            ("ana", "a1", D(2026, 1, 10), "100"),
            ("ana", "a2", D(2026, 2, 10), "450"),
            ("ben", "b1", D(2026, 1, 5), "20"),
            ("ben", "b2", D(2026, 2, 5), "20"),
            ("cruz", "c1", D(2026, 2, 20), "30"),
            ("dora", "d1", D(2026, 2, 21), "40"),
        ],
    )
    with api.services.uow.transaction() as session:
        service.save(session, PROGRAM, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    rfm_from_store(at(api.services, FIRST), as_of=FIRST.isoformat())
    post_orders(api, [("cruz", "c2", D(2026, 3, 15), "60"), ("eli", "e1", D(2026, 4, 5), "15")])
    service.apply_program(at(api.services, SECOND), as_of=SECOND)
    return ids(api, "ana", "ben", "cruz", "dora", "eli")


def test_members_per_tier_and_the_people_in_a_tier(api: Api, shop: dict[str, str]) -> None:
    with api.services.uow.transaction() as session:
        assert reports.members(session) == {"Gold": 1, "Silver": 2, "Member": 1}
        silver = members_page(session, reports.in_tier("Silver"))
        nobody = members_page(session, reports.in_tier(None))
    assert {m.id for m in silver} == {shop["ben"], shop["cruz"]}
    assert shop["eli"] in {m.id for m in nobody}
    assert shop["ana"] not in {m.id for m in nobody}


def test_revenue_per_tier_held_now_over_a_period(api: Api, shop: dict[str, str]) -> None:
    with api.services.uow.transaction() as session:
        rows = reports.revenue(session, D(2026, 1, 1), D(2026, 4, 30))
        february = reports.revenue(session, D(2026, 2, 1), D(2026, 2, 28))
        with pytest.raises(InvalidInput) as refused:
            reports.revenue(session, D(2026, 3, 1), D(2026, 2, 1))
    found = {r.tier: (r.customers, r.orders, r.revenue, r.currency) for r in rows}
    assert found == {
        "Gold": (1, 2, 550.0, "EUR"),
        "Silver": (2, 4, 130.0, "EUR"),
        "Member": (1, 1, 40.0, "EUR"),
        None: (1, 1, 15.0, "EUR"),
    }
    # whole days: 1 and 28 February included (b2 on the 5th, a2 on the 10th, c1, d1)
    assert {r.tier: r.orders for r in february} == {"Gold": 1, "Silver": 2, "Member": 1}
    assert refused.value.field == "from"


def test_the_migration_matrix_and_the_people_behind_a_cell(api: Api, shop: dict[str, str]) -> None:
    with api.services.uow.transaction() as session:
        later = reports.migrations(session, FIRST, SECOND)
        first = reports.migrations(session, D(2026, 2, 1), FIRST)
        before = reports.migrations(session, D(2026, 1, 1), D(2026, 2, 1))
        up = members_page(session, reports.movers(FIRST, SECOND, "Member", "Silver"))
        stayed = members_page(session, reports.movers(FIRST, SECOND, "Member", "Member"))
        joined = members_page(session, reports.movers(D(2026, 2, 1), FIRST, None, "Member"))
    assert later.cells == {
        ("Gold", "Gold"): 1,
        ("Silver", "Silver"): 1,
        ("Member", "Silver"): 1,
        ("Member", "Member"): 1,
    }
    assert later.moved() == 1
    assert first.cells == {(None, "Gold"): 1, (None, "Silver"): 1, (None, "Member"): 2}
    assert before.cells == {}
    assert [m.id for m in up] == [shop["cruz"]]
    assert [m.id for m in stayed] == [shop["dora"]]
    assert {m.id for m in joined} == {shop["cruz"], shop["dora"]}


def test_vouchers_redeemed_per_tier(api: Api, shop: dict[str, str]) -> None:
    moment = dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC)
    with api.services.uow.transaction() as session:
        assert reports.vouchers_ever_redeemed(session) == 0
        for who, key in (("ana", "v1"), ("ana", "v2"), ("eli", "v3"), ("ben", "v4")):
            made = vouchers.issue(
                session, key=key, contact_id=shop[who], kind="percent", value=10, now=moment
            )
            if who != "ben":
                vouchers.redeem(session, made.code, order_id=f"o-{key}", now=moment)
    with api.services.uow.transaction() as session:
        april = reports.vouchers_redeemed(session, D(2026, 4, 1), D(2026, 4, 30))
        march = reports.vouchers_redeemed(session, D(2026, 3, 1), D(2026, 3, 31))
        ever = reports.vouchers_ever_redeemed(session)
    assert {(v.tier, v.vouchers, v.customers) for v in april} == {("Gold", 2, 1), (None, 1, 1)}
    assert march == []
    assert ever == 3


def test_a_preview_counts_each_tier_and_writes_nothing(api: Api, shop: dict[str, str]) -> None:
    services = at(api.services, SECOND + dt.timedelta(days=1))
    with api.services.uow.transaction() as session:
        changes_before = session.scalar(select(func.count()).select_from(TierChange))
    held = {c: t.tier for c, t in tiers(api).items()}
    looser = load_program(PROGRAM.replace("{any: [{orders: 4}, {spend: 500}]}", "{orders: 2}"))
    found = preview(services, looser)
    # as a review without a date: orders up to the stored RFM's as-of date (1 March), so
    # cruz's second order and eli's do not count yet; cruz keeps Silver (kept to 2027)
    assert found.as_of == FIRST
    counts = {t.tier: (t.now, t.preview, t.qualify) for t in found.tiers}
    assert counts == {"Gold": (1, 2, 2), "Silver": (2, 1, 0), "Member": (1, 1, 2)}
    assert (found.upgraded, found.downgraded, found.members_now, found.members) == (1, 0, 4, 4)
    assert found.customers == 4
    assert not found.reused
    stricter = load_program(PROGRAM.replace("qualify: {orders: 2}", "qualify: {orders: 3}"))
    kept = preview(services, stricter)
    # cruz and ben qualify for Member only, but keep Silver until the end of next year
    assert {t.tier: (t.now, t.preview, t.qualify) for t in kept.tiers}["Silver"] == (2, 2, 0)
    assert kept.reused
    assert {c: t.tier for c, t in tiers(api).items()} == held
    with api.services.uow.transaction() as session:
        after = session.scalar(select(func.count()).select_from(TierChange))
        assert after == changes_before
        assert session.scalar(select(func.count()).select_from(ContactTier)) == 4


def test_a_warm_up_leaves_the_facts_ready_and_writes_nothing(
    api: Api, shop: dict[str, str]
) -> None:
    services = at(api.services, SECOND + dt.timedelta(days=1))
    with api.services.uow.transaction() as session:
        changes_before = session.scalar(select(func.count()).select_from(TierChange))
    warm(services)
    first = preview(services, load_program(PROGRAM))
    assert first.reused  # the warm-up read the facts
    assert {t.tier: t.preview for t in first.tiers}["Gold"] == 1
    with api.services.uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(TierChange)) == changes_before


def test_a_preview_sees_new_orders_and_refuses_rfmp_without_payment_scores(
    api: Api, shop: dict[str, str]
) -> None:
    services = at(api.services, SECOND + dt.timedelta(days=1))
    program = load_program(PROGRAM)
    assert {t.tier: t.preview for t in preview(services, program).tiers}["Gold"] == 1
    post_orders(api, [("dora", f"d{n}", D(2026, 2, 25), "10") for n in range(2, 5)])
    again = preview(services, program)
    assert not again.reused
    assert {t.tier: t.preview for t in again.tiers}["Gold"] == 2
    rfmp = load_program(PROGRAM.replace("name: Friends", "name: Friends\ndimensions: rfmp"))
    with pytest.raises(InvalidInput) as refused:
        preview(services, rfmp)
    assert refused.value.field == "dimensions"


def test_the_card_on_the_contact_page(api: Api, shop: dict[str, str]) -> None:
    now = dt.datetime.combine(SECOND, dt.time(12), tzinfo=dt.UTC)
    with api.services.uow.transaction() as session:
        lead = Contact(attributes={"first_name": "Lead"})
        session.add(lead)
        session.flush()
        cruz = loyalty_card(session, shop["cruz"], [shop["cruz"]], now)
        dora = progress_words(session, shop["dora"], now)
        ana = progress_words(session, shop["ana"], now)
        nobody = loyalty_card(session, lead.id, [lead.id], now)
        none_yet = progress_words(session, lead.id, now)
    assert cruz is not None
    assert (cruz["tier"], cruz["since"], cruz["until"]) == ("Silver", "1 Apr 2026", "31 Dec 2027")
    assert [b["code"] for b in cruz["benefits"]] == ["SHIP50", "SILVER5"]
    assert [(h["text"], h["date"]) for h in cruz["history"]] == [
        ("Moved up from Member to Silver", "1 Apr 2026"),
        ("Joined Member", "1 Mar 2026"),
    ]
    steady = {"keep": "", "drops_on": "", "drops_to": ""}  # no tier falling
    words = "1 more order to Silver before 21 February 2027"
    assert dora == {"words": words, "ordered": "yes", **steady}
    assert ana == {"words": "", "ordered": "yes", **steady}  # Gold is the top tier
    assert (cruz["decision"], cruz["points"]) == (None, None)  # no decision, no points
    assert nobody is not None
    assert (nobody["tier"], nobody["history"]) == (None, [])
    assert none_yet == {"words": "", "ordered": "", **steady}
