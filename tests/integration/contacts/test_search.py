"""Searching contacts: every filter, keyset pages, and what is never listed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lealta.contacts.tables import Contact
from tests.factories import scores
from tests.integration.conftest import Api
from tests.integration.contacts.helpers import create

T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def _find(api: Api, **params: Any) -> list[str]:
    """The e-mail addresses of the contacts found, in order."""
    answer = api.client.get("/v1/contacts", headers=api.admin, params=params)
    assert answer.status_code == 200, answer.text
    return [c["identifiers"]["email"][0] for c in answer.json()["contacts"]]


def _set(api: Api, contact_id: str, **values: Any) -> None:
    with api.services.uow.transaction() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        for name, value in values.items():
            setattr(contact, name, value)


@pytest.fixture
def people(api: Api) -> dict[str, str]:
    """Four contacts with different identifiers, tags, lists, stages, scores and attributes."""
    api.client.post("/v1/lists", headers=api.admin, json={"slug": "news", "name": "News"})
    api.client.put("/v1/attributes/vip", headers=api.admin, json={"type": "boolean"})
    api.client.put("/v1/attributes/age", headers=api.admin, json={"type": "integer"})
    ana = create(
        api,
        identifiers={"email": "ana@shop.example", "phone": "+351 912 345 678", "user_id": "u-1"},
        attributes={"city": "Lisbon", "age": 30, "vip": True, "visits": 3},
        tags=["beta"],
        lists=["news"],
    )
    bea = create(
        api,
        identifiers={"email": "bea@mail.example", "external_id": "shopify:42"},
        attributes={"city": "Porto", "age": "41", "vip": False, "visits": 30},
        tags=["beta", "vip"],
    )
    cai = create(
        api, identifiers={"email": "cai@shop.example"}, attributes={"city": "Lisbon", "age": 41}
    )
    dan = create(api, identifiers={"email": "dan@other.example"}, lists=["news"])
    api.client.delete(f"/v1/contacts/{dan['id']}/lists/news", headers=api.admin)
    _set(api, ana["id"], lifecycle_stage="Lead", score=35.0, last_seen_at=T0)
    _set(api, bea["id"], lifecycle_stage="Customer", score=80.0, last_seen_at=T0 + dt.timedelta(5))
    _set(api, cai["id"], score=10.0, last_seen_at=T0 + dt.timedelta(10))
    with api.services.uow.transaction() as session:
        for contact_id, segment in ((ana["id"], "Champions"), (cai["id"], "At Risk")):
            scores.rfm(session, contact_id, segment, at=T0, m=3, frequency=5, monetary=120.0)
    return {"ana": ana["id"], "bea": bea["id"], "cai": cai["id"], "dan": dan["id"]}


ANA, BEA, CAI, DAN = (
    "ana@shop.example",
    "bea@mail.example",
    "cai@shop.example",
    "dan@other.example",
)


FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({}, [ANA, BEA, CAI, DAN]),
    ({"email": " ANA@shop.example"}, [ANA]),
    ({"phone": "00351912345678"}, [ANA]),
    ({"user_id": "u-1"}, [ANA]),
    ({"external_id": "shopify:42"}, [BEA]),
    ({"q": "SHOP.example"}, [ANA, CAI]),
    ({"q": "%"}, []),
    ({"tag": "beta"}, [ANA, BEA]),
    ({"tag": "vip"}, [BEA]),
    ({"list": "news"}, [ANA]),
    ({"list": "news", "list_status": "unsubscribed"}, [DAN]),
    ({"stage": "Lead"}, [ANA]),
    ({"stage": "Prospect"}, [CAI, DAN]),
    ({"score_min": 30}, [ANA, BEA]),
    ({"score_max": 35}, [ANA, CAI, DAN]),
    ({"score_min": 30, "score_max": 50}, [ANA]),
    ({"seen_after": "2025-03-05T00:00:00Z"}, [BEA, CAI]),
    ({"seen_before": "2025-03-05T00:00:00+00:00"}, [ANA]),
    ({"attribute": "city:Lisbon"}, [ANA, CAI]),
    ({"attribute": ["city:Lisbon", "age:41"]}, [CAI]),
    ({"attribute": "age:41"}, [BEA, CAI]),
    ({"attribute": "vip:true"}, [ANA]),
    ({"attribute": "vip:false"}, [BEA]),
    ({"attribute": "visits:3"}, [ANA]),
    ({"attribute": "city:lisbon"}, []),
    ({"segment": "Champions"}, [ANA]),
    ({"segment": "At Risk", "attribute": "city:Lisbon"}, [CAI]),
]


def test_each_filter_finds_exactly_its_contacts(api: Api, people: dict[str, str]) -> None:
    for params, expected in FILTERS:
        assert _find(api, **params) == expected, params


BAD_FILTERS: list[tuple[dict[str, Any], str]] = [
    ({"email": "nope"}, "email"),
    ({"attribute": "city"}, "attribute"),
    ({"attribute": "age:old"}, "attribute"),
    ({"attribute": "vip:maybe"}, "attribute"),
    ({"list": "news", "list_status": "gone"}, "list_status"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"limit": 501}, "limit"),
    ({"limit": 0}, "limit"),
    ({"seen_after": "yesterday"}, "seen_after"),
]


def test_bad_filters_are_refused_naming_the_parameter(api: Api, people: dict[str, str]) -> None:
    for params, field in BAD_FILTERS:
        answer = api.client.get("/v1/contacts", headers=api.admin, params=params)
        assert answer.status_code in (400, 422), (params, answer.text)
        assert answer.json()["error"]["field"] == field, params


def test_pages_follow_creation_order_without_gaps_or_repeats(api: Api) -> None:
    emails = [f"p{i}@example.com" for i in range(7)]
    for email in emails:
        create(api, identifiers={"email": email})
    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api.client.get("/v1/contacts", headers=api.admin, params=params).json()
        seen += [c["identifiers"]["email"][0] for c in page["contacts"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == emails
    assert pages == 3
    exact = api.client.get("/v1/contacts", headers=api.admin, params={"limit": 7}).json()
    assert exact["next"] is None


def test_merged_and_erased_contacts_are_not_listed(api: Api, people: dict[str, str]) -> None:
    _set(api, people["bea"], merged_into=people["ana"])
    assert api.client.delete(f"/v1/contacts/{people['cai']}", headers=api.admin).is_success
    assert _find(api) == [ANA, DAN]
