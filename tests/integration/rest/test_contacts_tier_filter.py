"""``GET /v1/contacts?tier=``: contacts holding a loyalty tier, documented, bad tiers named."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Api
from tests.integration.loyalty.test_tier_search_and_conditions import setup


def listed(api: Api, **params: Any) -> Any:
    return api.client.get("/v1/contacts", params=params, headers=api.admin)


def ids_of(answer: Any) -> set[str]:
    assert answer.status_code == 200, answer.text
    return {c["id"] for c in answer.json()["contacts"]}


def test_the_tier_parameter_finds_the_contacts_of_a_tier_in_any_case(api: Api) -> None:
    who = setup(api)  # Ana Gold, Ben Silver, Cruz Member, Dan in no tier

    assert ids_of(listed(api, tier="gold")) == {who["ana"]}
    assert ids_of(listed(api, tier="SILVER")) == {who["ben"]}
    assert ids_of(listed(api, tier="Member", q="cruz")) == {who["cruz"]}
    assert ids_of(listed(api, tier="Gold", q="cruz")) == set()
    assert len(ids_of(listed(api))) == 4  # no tier: everyone

    first = listed(api, tier="Member", limit=1)  # pages keep the filter
    assert ids_of(first) == {who["cruz"]}
    assert first.json()["next"] is None


def test_a_tier_by_decision_is_found_by_the_parameter(api: Api) -> None:
    who = setup(api)

    answer = api.client.put(
        f"/v1/contacts/{who['dan']}/loyalty/override",
        json={"tier": "Gold", "reason": "Brand ambassador"},
        headers=api.admin,
    )
    assert answer.status_code == 200, answer.text

    assert ids_of(listed(api, tier="Gold")) == {who["ana"], who["dan"]}


def test_an_unknown_tier_is_a_400_naming_tier_and_the_tiers(api: Api) -> None:
    setup(api)

    answer = listed(api, tier="Goldd")

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["field"] == "tier"
    assert "'Goldd'" in error["message"]
    assert "Member, Silver, Gold" in error["message"]
    empty = listed(api, tier="")
    assert (empty.status_code, empty.json()["error"]["field"]) == (422, "tier")


def test_without_a_programme_a_tier_is_a_400_naming_tier(api: Api) -> None:
    answer = listed(api, tier="Gold")

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["field"] == "tier"
    assert "no loyalty programme is in force" in error["message"]


def test_the_tier_parameter_is_documented(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    parameters = schema["paths"]["/v1/contacts"]["get"]["parameters"]

    (tier,) = [p for p in parameters if p["name"] == "tier"]

    assert tier["in"] == "query"
    assert tier["required"] is False
    assert "Loyalty tier" in tier["description"]
    assert "400" in tier["description"]
