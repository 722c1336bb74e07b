"""Rule sets through HTTP: read the defaults, replace them (JSON or YAML), rescore."""

from __future__ import annotations

from tests.integration.conftest import Api

SCORING_YAML = """
half_life_days: null
thresholds: [10]
rules:
  - id: pricing
    type: page
    where: [{property: path, op: matches, value: "*/pricing*"}]
    points: 4
"""


def test_the_shipped_defaults_are_in_force_until_replaced(api: Api) -> None:
    answer = api.client.get("/v1/rules/lifecycle", headers=api.admin)
    assert answer.status_code == 200
    body = answer.json()
    assert body["version"] == 0
    assert [s["name"] for s in body["model"]["stages"]][:4] == [
        "Prospect",
        "Visitor",
        "Lead",
        "Customer",
    ]
    assert api.client.get("/v1/rules/scoring", auth=api.track_auth).status_code == 401


def test_replacing_scoring_rules_and_recomputing(api: Api) -> None:
    pages = [
        {"type": "page", "userId": "p-1", "properties": {"path": f"/en/pricing/{i}"}}
        for i in range(3)
    ]
    assert api.client.post("/v1/batch", auth=api.track_auth, json={"batch": pages}).is_success
    api.drain()
    put = api.client.put(
        "/v1/rules/scoring",
        content=SCORING_YAML,
        headers={**api.admin, "Content-Type": "application/yaml"},
    )
    assert put.status_code == 200, put.text
    assert put.json()["version"] == 1
    assert api.client.post("/v1/rules/scoring/recompute", headers=api.admin).json() == {
        "recomputed": 1
    }
    found = api.client.get("/v1/contacts", params={"user_id": "p-1"}, headers=api.admin).json()
    (person,) = found["contacts"]
    assert person["score"] == 12


def test_a_bad_rule_is_refused_with_its_name(api: Api) -> None:
    bad = {"rules": [{"id": "broken", "event": "X", "points": 0}]}
    answer = api.client.put("/v1/rules/scoring", json=bad, headers=api.admin)
    assert answer.status_code == 400
    assert "broken" in answer.json()["error"]["message"]
    stages = {"stages": [{"name": "A"}], "initial": "A", "rules": [{"id": "r", "to": "Nowhere"}]}
    answer = api.client.put("/v1/rules/lifecycle", json=stages, headers=api.admin)
    assert answer.status_code == 400
    assert "Nowhere" in answer.json()["error"]["message"]
