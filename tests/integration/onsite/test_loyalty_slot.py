"""A slot for loyalty members ("You are Gold: shipping is on us") on SQLite and PostgreSQL:
the shipped example template placed for some tiers, shown with the member's tier and benefit
code only to a visitor whose own anonymous id leads to the member."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import Any

import pytest

from lealta.messages.catalog import read_documents
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import PROGRAM, ids, post_orders
from tests.integration.onsite.conftest import templates
from tests.integration.onsite.test_placements_api import put, slots

BADGE = "loyalty-badge"


def _identify(api: Api, user: str, anonymous_id: str, **traits: str) -> None:
    body = {"userId": user, "anonymousId": anonymous_id, "traits": traits}
    assert api.client.post("/v1/identify", json=body, auth=api.track_auth).status_code == 200


@pytest.fixture
def members(api: Api) -> Api:
    """Ana and Carla (Italian) in Gold, Ben in Silver, each known by their browser's id; the
    example badge placed for Gold and Platinum above a banner for everyone."""
    today = dt.datetime.now(dt.UTC).date()
    days = [today - dt.timedelta(days=n) for n in (40, 30, 20, 10)]
    post_orders(
        api,
        [(who, f"{who}-{n}", day, "30") for who in ("ana", "carla") for n, day in enumerate(days)]
        + [("ben", "ben-1", days[0], "30"), ("ben", "ben-2", days[1], "30")],
    )
    _identify(api, "ana", "aid-ana", first_name="Ana")
    _identify(api, "ben", "aid-ben", first_name="Ben")
    _identify(api, "carla", "aid-carla", first_name="Carla", language="it")
    api.drain()
    saved = api.client.put(
        "/v1/loyalty/program",
        content=PROGRAM,
        headers=api.admin | {"Content-Type": "application/yaml"},
    )
    assert saved.status_code == 200, saved.text
    review = api.client.post("/v1/loyalty/assign", headers=api.admin)
    assert review.json()["tiers"] == {"Member": 0, "Silver": 1, "Gold": 2}, review.text
    text = resources.files("lealta.onsite").joinpath(f"examples/{BADGE}.yaml").read_text("utf-8")
    [doc] = read_documents(text)
    stored = api.client.put(
        f"/v1/templates/{BADGE}",
        json={"channel": doc["channel"], "body": doc["body"]},
        headers=api.admin,
    )
    assert stored.status_code in (200, 201), stored.text
    templates(api.services.uow)
    put(api, BADGE, slot="badge", template=BADGE, audience={"tiers": ["Gold", "Platinum"]})
    put(api, "join", slot="badge", template="everyone-banner", priority=-1)
    return api


def _badge(api: Api, **visitor: str) -> dict[str, Any]:
    shown: dict[str, Any] = slots(api, "badge", **visitor)["badge"]
    return shown


def _words(html: str) -> str:
    return " ".join(html.split())


def test_a_gold_member_sees_the_tier_and_the_shipping_code(members: Api) -> None:
    shown = _badge(members, anonymousId="aid-ana")
    assert shown["placement"] == BADGE
    html = _words(shown["html"])
    assert "<strong>You are Gold, Ana:</strong> shipping is on us from €50.00." in html
    assert "<code>SHIP50</code>" in html  # the code the checkout reads (GET …/loyalty)
    who = ids(members, "ana")["ana"]
    card = members.client.get(f"/v1/contacts/{who}/loyalty", headers=members.admin).json()
    assert "SHIP50" in [benefit["code"] for benefit in card["benefits"]]


def test_the_badge_speaks_the_members_language(members: Api) -> None:
    html = _words(_badge(members, anonymousId="aid-carla")["html"])
    assert "<strong>Sei Gold, Carla:</strong> la spedizione te la offriamo noi da 50,00 €." in html


def test_other_tiers_and_anonymous_visitors_see_the_page_s_usual_banner(members: Api) -> None:
    assert _badge(members, anonymousId="aid-ben")["placement"] == "join"  # Silver
    assert _badge(members)["placement"] == "join"
    assert _badge(members, anonymousId="someone-new")["placement"] == "join"


def test_a_bare_or_borrowed_user_id_never_shows_a_members_badge(members: Api) -> None:
    assert _badge(members, userId="ana")["placement"] == "join"  # a guessable id proves nothing
    assert _badge(members, userId="ana", anonymousId="aid-ben")["placement"] == "join"
    assert _badge(members, userId="ana", anonymousId="aid-ana")["placement"] == BADGE


def test_the_badge_follows_the_tier_the_last_review_gave(members: Api) -> None:
    cheaper = PROGRAM.replace("qualify: {any: [{orders: 4}, {spend: 500}]}", "qualify: {orders: 9}")
    answer = members.client.put(
        "/v1/loyalty/program",
        content=cheaper,
        headers=members.admin | {"Content-Type": "application/yaml"},
    )
    assert answer.status_code == 200
    assert _badge(members, anonymousId="aid-ana")["placement"] == BADGE  # no review yet
    renamed = PROGRAM.replace("name: Gold", "name: Oro")
    members.client.put(
        "/v1/loyalty/program",
        content=renamed,
        headers=members.admin | {"Content-Type": "application/yaml"},
    )
    # Gold is no tier of the programme in force any more: no badge until the next review
    assert _badge(members, anonymousId="aid-ana")["placement"] == "join"


def test_a_placement_keeps_its_tiers_and_refuses_bad_ones(members: Api) -> None:
    read = members.client.get(f"/v1/onsite/placements/{BADGE}", headers=members.admin).json()
    assert read["audience"]["tiers"] == ["Gold", "Platinum"]
    bad = members.client.put(
        "/v1/onsite/placements/wrong",
        json={"slot": "badge", "template": BADGE, "audience": {"tiers": "Gold"}},
        headers=members.admin,
    )
    assert bad.status_code in (400, 422), bad.text
    assert "tiers" in bad.text
