"""The loyalty tier in contact search (API filter and console) and in workflow conditions."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pytest
from pydantic import TypeAdapter

from lealta.conditions import ConditionSpec, evaluate
from lealta.conditions.views import contact_views, views
from lealta.console.contacts_page import contacts_context
from lealta.contacts import search
from lealta.errors import InvalidInput
from lealta.loyalty import service
from lealta.loyalty.overrides import set_override
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import PROGRAM, at, ids, post_orders

D = dt.date
SPEC: TypeAdapter[ConditionSpec] = TypeAdapter(ConditionSpec)


def setup(api: Api) -> dict[str, str]:
    """Ana Gold, Ben Silver, Cruz Member, Dan (a lead with no order) in no tier."""
    post_orders(
        api,
        [
            *[("ana", f"a{n}", D(2026, 1, 10 + n), "40") for n in range(4)],
            ("ben", "b1", D(2026, 1, 10), "40"),
            ("ben", "b2", D(2026, 1, 11), "40"),
            ("cruz", "c1", D(2026, 1, 10), "40"),
        ],
    )
    answer = api.client.post(
        "/v1/identify", json={"userId": "dan", "traits": {"name": "Dan"}}, auth=api.track_auth
    )
    assert answer.status_code == 200, answer.text
    api.drain()
    with api.services.uow.transaction() as session:
        service.save(session, PROGRAM, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    service.apply_program(at(api.services, D(2026, 2, 1)), as_of=D(2026, 2, 1))
    return ids(api, "ana", "ben", "cruz", "dan")


def found(api: Api, **wanted: str) -> set[str]:
    with api.services.uow.transaction() as session:
        page, _next = search.search(session, search.ContactFilter(**wanted))  # type: ignore[arg-type]
        total, more = search.count(session, search.ContactFilter(**wanted))  # type: ignore[arg-type]
        assert (total, more) == (len(page), False)
        return {c.id for c in page}


def test_search_finds_the_contacts_of_a_tier_in_any_case(api: Api) -> None:
    who = setup(api)
    assert found(api, tier="gold") == {who["ana"]}
    assert found(api, tier="Silver") == {who["ben"]}
    assert found(api, tier="MEMBER", q="cruz") == {who["cruz"]}  # with the other filters
    assert found(api, tier="Gold", q="cruz") == set()
    assert found(api, tier="Member") == {who["cruz"]}
    with api.services.uow.transaction() as session, pytest.raises(InvalidInput) as refused:
        search.search(session, search.ContactFilter(tier="Diamond"))
    assert refused.value.field == "tier"
    assert "Member, Silver, Gold" in str(refused.value)


def test_the_console_contacts_filter_offers_and_applies_the_tiers(api: Api) -> None:
    who = setup(api)
    page = contacts_context(api.services, {"tier": "Gold"})
    assert page["options"]["tier"] == [("Gold", "Gold"), ("Silver", "Silver"), ("Member", "Member")]
    assert [chip.label for chip in page["chips"]] == ["Loyalty tier"]
    assert page["matching"] == "1 contact"
    assert [row.id for row in page["rows"]] == [who["ana"]]
    bad = contacts_context(api.services, {"tier": "Bronze"})
    assert (bad["problem_field"], bad["rows"]) == ("tier", [])


def test_conditions_see_the_tier_of_each_contact(api: Api) -> None:
    who = setup(api)
    now = dt.datetime(2026, 2, 2, tzinfo=dt.UTC)
    with api.services.uow.transaction() as session:
        seen = contact_views(session, list(who.values()), now=now)
        lean = views(session, dict.fromkeys(who.values(), frozenset[str]()), now=now)
    assert {name: seen[cid].tier for name, cid in who.items()} == {
        "ana": "Gold",
        "ben": "Silver",
        "cruz": "Member",
        "dan": None,
    }
    assert {name: lean[cid].tier for name, cid in who.items()} == {
        name: seen[cid].tier for name, cid in who.items()
    }

    def holding(spec: dict[str, object]) -> set[str]:
        condition = SPEC.validate_python(spec)
        return {
            name
            for name, cid in who.items()
            if evaluate(condition, lean[cid], now=now, entered_at=now - timedelta(days=1))
        }

    assert holding({"kind": "loyalty_tier"}) == {"ana", "ben", "cruz"}
    assert holding({"kind": "loyalty_tier", "at_least": "silver"}) == {"ana", "ben"}
    assert holding({"kind": "loyalty_tier", "in": ["Member", "Gold"]}) == {"ana", "cruz"}
    assert holding({"kind": "loyalty_tier", "at_least": "Diamond"}) == set()


def test_a_tier_by_decision_counts_in_search_and_conditions(api: Api) -> None:
    who = setup(api)
    now = dt.datetime(2026, 2, 3, tzinfo=dt.UTC)
    with api.services.uow.transaction() as session:
        set_override(
            session, who["dan"], tier="gold", reason="Ambassador", until=None, set_by="t", now=now
        )
    assert found(api, tier="Gold") == {who["ana"], who["dan"]}
    with api.services.uow.transaction() as session:
        dan = views(session, {who["dan"]: frozenset()}, now=now)[who["dan"]]
    gold = SPEC.validate_python({"kind": "loyalty_tier", "at_least": "Gold"})
    assert evaluate(gold, dan, now=now, entered_at=now)


def test_the_contacts_page_renders_the_tier_filter(api: Api) -> None:
    from tests.integration.console.test_journeys import _sign_in

    who = setup(api)
    client = _sign_in(api, "viewer")
    page = client.get("/contacts", params={"tier": "Silver"})
    assert page.status_code == 200
    assert '<select id="f-tier" name="tier"' in page.text
    assert '<option value="Silver" selected>Silver</option>' in page.text
    assert who["ben"] in page.text
    assert who["ana"] not in page.text
    refused = client.get("/contacts", params={"tier": "Bronze"})
    assert "no tier &#39;Bronze&#39;; the tiers are Member, Silver, Gold" in refused.text
