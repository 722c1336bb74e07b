"""Contacts through the REST API, on SQLite and PostgreSQL: create, read, change, tags, lists,
consent and attribute declarations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from lealta.contacts.tables import Contact
from lealta.identity.service import merge
from lealta.lifecycle.tables import StageChange
from tests.integration.conftest import Api
from tests.integration.contacts.helpers import create


def _error(answer: Any) -> dict[str, Any]:
    found: dict[str, Any] = answer.json()["error"]
    return found


def test_a_new_contact_has_normalised_identifiers_typed_attributes_and_starts_as_prospect(
    api: Api,
) -> None:
    api.client.post(
        "/v1/lists",
        headers=api.admin,
        json={"slug": "news", "name": "Newsletter", "double_opt_in": True},
    )
    api.client.post("/v1/lists", headers=api.admin, json={"slug": "vip", "name": "VIP"})
    profile = create(
        api,
        identifiers={"email": " Ana@Example.COM ", "phone": "600 123 456", "user_id": "u-1"},
        attributes={"first_name": "Ana", "birthday": "1990-04-01T00:00:00", "plan": "pro"},
        tags=["beta", "vip"],
        lists=["news", "vip"],
        consent={"email": "granted", "sms": "denied"},
    )
    assert profile["identifiers"] == {
        "email": ["ana@example.com"],
        "phone": ["+34600123456"],
        "user_id": ["u-1"],
    }
    assert profile["attributes"] == {"first_name": "Ana", "birthday": "1990-04-01", "plan": "pro"}
    assert profile["lifecycle_stage"] == "Prospect"
    assert profile["tags"] == ["beta", "vip"]
    assert [(m["slug"], m["status"]) for m in profile["lists"]] == [
        ("news", "pending"),
        ("vip", "subscribed"),
    ]
    assert {c: v["status"] for c, v in profile["consent"].items()} == {
        "email": "granted",
        "sms": "denied",
    }
    assert profile["score"] == 0
    assert profile["rfm"] is None
    assert profile["merged_from"] is None
    with api.services.uow.transaction() as session:
        (change,) = session.scalars(
            select(StageChange).where(StageChange.contact_id == profile["id"])
        )
        assert (change.from_stage, change.to_stage, change.rule_id) == (None, "Prospect", "created")
    again = api.client.get(f"/v1/contacts/{profile['id']}", headers=api.admin)
    assert again.status_code == 200
    assert again.json() == profile


def test_an_identifier_already_taken_is_a_conflict_naming_the_field(api: Api) -> None:
    first = create(api, identifiers={"email": "ana@example.com"})
    answer = api.client.post(
        "/v1/contacts",
        headers=api.admin,
        json={"identifiers": {"user_id": "new", "email": "ANA@example.com"}},
    )
    assert answer.status_code == 409
    assert _error(answer)["field"] == "identifiers.email"
    assert first["id"] in _error(answer)["message"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"identifiers": {}}, 400, "identifiers"),
        ({"identifiers": {"email": "not-an-email"}}, 400, "identifiers.email"),
        ({"identifiers": {"phone": "12"}}, 400, "identifiers.phone"),
        (
            {"identifiers": {"email": "a@b.co"}, "attributes": {"birthday": 42.5}},
            400,
            "attributes.birthday",
        ),
        (
            {"identifiers": {"email": "a@b.co"}, "attributes": {"birthday": "next week"}},
            400,
            "attributes.birthday",
        ),
        (
            {"identifiers": {"email": "a@b.co"}, "attributes": {"email": "x@y.z"}},
            400,
            "attributes.email",
        ),
        ({"identifiers": {"email": "a@b.co"}, "consent": {"fax": "granted"}}, 400, "consent.fax"),
        ({"identifiers": {"email": "a@b.co"}, "consent": {"sms": "maybe"}}, 422, "consent.sms"),
        ({"identifiers": {"external_id": "no-type"}}, 422, "identifiers.external_id"),
        ({"identifiers": {"email": "a@b.co"}, "lists": ["nope"]}, 404, None),
        ({"identifiers": {"email": "a@b.co"}, "colour": "red"}, 422, "colour"),
    ],
)
def test_bad_data_is_refused_naming_the_field(
    api: Api, body: dict[str, Any], status: int, field: str | None
) -> None:
    answer = api.client.post("/v1/contacts", headers=api.admin, json=body)
    assert answer.status_code == status, answer.text
    assert _error(answer).get("field") == field
    listed = api.client.get("/v1/contacts", headers=api.admin).json()
    assert listed["contacts"] == []  # nothing half-created


def test_unknown_contacts_answer_404(api: Api) -> None:
    for method, path in [
        ("GET", "/v1/contacts/nope"),
        ("PATCH", "/v1/contacts/nope"),
        ("GET", "/v1/contacts/nope/timeline"),
        ("PUT", "/v1/contacts/nope/tags/x"),
        ("GET", "/v1/contacts/nope/export"),
        ("DELETE", "/v1/contacts/nope"),
    ]:
        answer = api.client.request(method, path, headers=api.admin, json={})
        assert answer.status_code == 404, (method, path, answer.text)
        assert _error(answer)["code"] == "not_found"


def test_patch_merges_attributes_and_null_removes_one(api: Api) -> None:
    contact = create(
        api, identifiers={"email": "ana@example.com"}, attributes={"city": "Lisbon", "plan": "x"}
    )
    answer = api.client.patch(
        f"/v1/contacts/{contact['id']}",
        headers=api.admin,
        json={"attributes": {"plan": None, "birthday": "1990-04-01", "visits": 3}},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["attributes"] == {"city": "Lisbon", "birthday": "1990-04-01", "visits": 3}
    bad = api.client.patch(
        f"/v1/contacts/{contact['id']}", headers=api.admin, json={"attributes": {"birthday": "?"}}
    )
    assert bad.status_code == 400
    assert _error(bad)["field"] == "attributes.birthday"


def test_patch_adds_and_removes_identifiers_but_keeps_at_least_one(api: Api) -> None:
    ana = create(api, identifiers={"email": "ana@example.com"})
    create(api, identifiers={"email": "bea@example.com"})
    path = f"/v1/contacts/{ana['id']}"
    added = api.client.patch(path, headers=api.admin, json={"identifiers": {"user_id": "u-7"}})
    assert added.json()["identifiers"] == {"email": ["ana@example.com"], "user_id": ["u-7"]}
    taken = api.client.patch(
        path, headers=api.admin, json={"identifiers": {"email": "bea@example.com"}}
    )
    assert taken.status_code == 409
    assert _error(taken)["field"] == "identifiers.email"
    removed = api.client.patch(path, headers=api.admin, json={"identifiers": {"email": None}})
    assert removed.json()["identifiers"] == {"user_id": ["u-7"]}
    last = api.client.patch(path, headers=api.admin, json={"identifiers": {"user_id": None}})
    assert last.status_code == 400
    assert _error(last)["field"] == "identifiers.user_id"
    unknown = api.client.patch(path, headers=api.admin, json={"identifiers": {"fax": "1"}})
    assert unknown.status_code == 400
    assert _error(unknown)["field"] == "identifiers.fax"


def test_a_merged_id_answers_with_its_survivor(api: Api) -> None:
    old = create(api, identifiers={"email": "ana@example.com"}, attributes={"city": "Porto"})
    new = create(api, identifiers={"user_id": "u-1"})
    with api.services.uow.transaction() as session:
        source = session.get(Contact, new["id"])
        into = session.get(Contact, old["id"])
        assert source is not None
        assert into is not None
        merge(session, source, into=into, now=dt.datetime.now(dt.UTC))
    answer = api.client.get(f"/v1/contacts/{new['id']}", headers=api.admin)
    assert answer.status_code == 200
    body = answer.json()
    assert body["id"] == old["id"]
    assert body["merged_from"] == new["id"]
    assert body["identifiers"] == {"email": ["ana@example.com"], "user_id": ["u-1"]}
    tagged = api.client.put(f"/v1/contacts/{new['id']}/tags/merged", headers=api.admin)
    assert tagged.json() == {"tags": ["merged"]}
    assert api.client.get(f"/v1/contacts/{old['id']}", headers=api.admin).json()["tags"] == [
        "merged"
    ]


def test_tags_are_added_once_and_removed(api: Api) -> None:
    contact = create(api, identifiers={"email": "ana@example.com"})
    path = f"/v1/contacts/{contact['id']}/tags"
    assert api.client.put(f"{path}/vip", headers=api.admin).json() == {"tags": ["vip"]}
    assert api.client.put(f"{path}/vip", headers=api.admin).json() == {"tags": ["vip"]}
    assert api.client.put(f"{path}/beta", headers=api.admin).json() == {"tags": ["beta", "vip"]}
    assert api.client.delete(f"{path}/vip", headers=api.admin).json() == {"tags": ["beta"]}
    assert api.client.delete(f"{path}/vip", headers=api.admin).json() == {"tags": ["beta"]}


def test_lists_count_members_and_memberships_follow_double_opt_in(api: Api) -> None:
    created = api.client.post(
        "/v1/lists",
        headers=api.admin,
        json={"slug": "news", "name": "Newsletter", "double_opt_in": True},
    )
    assert created.status_code == 201, created.text
    assert created.json()["members"] == {"subscribed": 0, "pending": 0, "unsubscribed": 0}
    again = api.client.post("/v1/lists", headers=api.admin, json={"slug": "news", "name": "N"})
    assert again.status_code == 409
    assert _error(again)["field"] == "slug"
    bad = api.client.post("/v1/lists", headers=api.admin, json={"slug": "Not OK", "name": "N"})
    assert bad.status_code == 422
    assert _error(bad)["field"] == "slug"
    ana = create(api, identifiers={"email": "ana@example.com"})
    bea = create(api, identifiers={"email": "bea@example.com"})
    joined = api.client.put(f"/v1/contacts/{ana['id']}/lists/news", headers=api.admin)
    assert joined.status_code == 200, joined.text
    assert joined.json()["status"] == "pending"
    confirmed = api.client.put(
        f"/v1/contacts/{bea['id']}/lists/news",
        headers=api.admin,
        json={"source": "confirmation link", "confirmed": True},
    )
    assert (confirmed.json()["status"], confirmed.json()["source"]) == (
        "subscribed",
        "confirmation link",
    )
    left = api.client.delete(f"/v1/contacts/{bea['id']}/lists/news", headers=api.admin)
    assert left.json()["status"] == "unsubscribed"
    (listed,) = api.client.get("/v1/lists", headers=api.admin).json()
    assert listed["members"] == {"subscribed": 0, "pending": 1, "unsubscribed": 1}
    missing = api.client.put(f"/v1/contacts/{ana['id']}/lists/nope", headers=api.admin)
    assert missing.status_code == 404


def test_consent_keeps_its_history_and_the_newest_decision_is_in_force(api: Api) -> None:
    contact = create(api, identifiers={"email": "ana@example.com"}, consent={"email": "pending"})
    path = f"/v1/contacts/{contact['id']}/consent"
    granted = api.client.put(
        f"{path}/email",
        headers=api.admin,
        json={"status": "granted", "source": "form:news", "proof": {"ip": "203.0.113.7"}},
    )
    assert granted.status_code == 200, granted.text
    api.client.put(f"{path}/sms", headers=api.admin, json={"status": "denied"})
    view = api.client.get(path, headers=api.admin).json()
    assert {c: v["status"] for c, v in view["current"].items()} == {
        "email": "granted",
        "sms": "denied",
    }
    assert view["current"]["email"]["proof"] == {"ip": "203.0.113.7"}
    assert [(h["channel"], h["status"]) for h in view["history"]] == [
        ("email", "pending"),
        ("email", "granted"),
        ("sms", "denied"),
    ]
    unknown = api.client.put(f"{path}/fax", headers=api.admin, json={"status": "granted"})
    assert unknown.status_code == 400
    assert _error(unknown)["field"] == "channel"
    status = api.client.put(f"{path}/email", headers=api.admin, json={"status": "yes"})
    assert status.status_code == 422
    assert _error(status)["field"] == "status"


def test_declaring_an_attribute_converts_values_or_says_how_many_do_not_fit(api: Api) -> None:
    create(api, identifiers={"email": "a@example.com"}, attributes={"age": "30"})
    create(api, identifiers={"email": "b@example.com"}, attributes={"age": 41})
    declared = api.client.put(
        "/v1/attributes/age", headers=api.admin, json={"type": "integer", "description": "Years"}
    )
    assert declared.status_code == 200, declared.text
    assert declared.json() == {
        "name": "age",
        "type": "integer",
        "description": "Years",
        "built_in": False,
    }
    found = api.client.get("/v1/contacts", headers=api.admin, params={"email": "a@example.com"})
    assert found.json()["contacts"][0]["attributes"] == {"age": 30}
    refused = api.client.post(
        "/v1/contacts",
        headers=api.admin,
        json={"identifiers": {"email": "c@example.com"}, "attributes": {"age": "old"}},
    )
    assert refused.status_code == 400
    assert _error(refused)["field"] == "attributes.age"
    create(api, identifiers={"email": "d@example.com"}, attributes={"tier": "gold"})
    create(api, identifiers={"email": "e@example.com"}, attributes={"tier": "silver"})
    create(api, identifiers={"email": "f@example.com"}, attributes={"tier": 2})
    conflict = api.client.put("/v1/attributes/tier", headers=api.admin, json={"type": "number"})
    assert conflict.status_code == 409
    assert _error(conflict)["field"] == "type"
    assert _error(conflict)["message"].startswith("2 contact(s)")
    names = {a["name"]: a for a in api.client.get("/v1/attributes", headers=api.admin).json()}
    assert names["age"]["built_in"] is False
    assert names["birthday"] == {
        "name": "birthday",
        "type": "date",
        "description": "built in",
        "built_in": True,
    }
    assert "tier" not in names
    bad_name = api.client.put("/v1/attributes/9lives", headers=api.admin, json={"type": "string"})
    assert bad_name.status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/contacts"),
        ("GET", "/v1/contacts"),
        ("GET", "/v1/contacts/x"),
        ("PATCH", "/v1/contacts/x"),
        ("DELETE", "/v1/contacts/x"),
        ("POST", "/v1/contacts/x/erase"),
        ("GET", "/v1/contacts/x/export"),
        ("GET", "/v1/contacts/x/timeline"),
        ("PUT", "/v1/contacts/x/tags/t"),
        ("PUT", "/v1/contacts/x/lists/l"),
        ("PUT", "/v1/contacts/x/consent/email"),
        ("GET", "/v1/contacts/x/consent"),
        ("GET", "/v1/lists"),
        ("POST", "/v1/lists"),
        ("GET", "/v1/attributes"),
        ("PUT", "/v1/attributes/age"),
    ],
)
def test_a_track_key_is_forbidden_and_basic_or_no_key_is_unauthorised(
    api: Api, method: str, path: str
) -> None:
    as_bearer = {"Authorization": f"Bearer {api.track_key}"}
    forbidden = api.client.request(method, path, headers=as_bearer, json={})
    assert forbidden.status_code == 403, forbidden.text
    assert _error(forbidden)["code"] == "forbidden"
    assert api.client.request(method, path, auth=api.track_auth, json={}).status_code == 401
    assert api.client.request(method, path, json={}).status_code == 401
