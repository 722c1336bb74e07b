"""``/v1/audiences`` (SQLite and PostgreSQL): keep, preview, refresh, members, explain, sizes;
4xx naming the field; an Audience Entered event starts the workflow it triggers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lealta.automations import service as workflows
from lealta.automations.tables import Run
from tests.integration.audiences.helpers import NOW, add_contacts, tag
from tests.integration.conftest import Api

YAML = {"Content-Type": "application/yaml"}
VIPS = "name: VIPs\ndescription: Our best\ncondition: {kind: tag, tag: vip}\n"
WELCOME = """
id: vip-welcome
name: Welcome new VIPs
trigger:
  type: event
  event: Audience Entered
  where: [{property: audience, op: equals, value: VIPs}]
steps:
  - {id: done, type: exit, reason: welcomed}
"""


def _post(api: Api, text: str) -> Any:
    return api.client.post("/v1/audiences", content=text, headers={**api.admin, **YAML})


def test_keep_preview_refresh_and_read_an_audience(api: Api) -> None:
    with api.services.uow.transaction() as session:
        ana, ben, _cruz = add_contacts(session, 3)
        tag(session, ana, "vip")
        tag(session, ben, "vip")
        tag(session, ben, "berlin")
        workflows.save(session, WELCOME, now=NOW)
        workflows.set_status(session, "vip-welcome", "active", now=NOW)
    created = _post(api, VIPS)
    assert created.status_code == 201, created.text
    audience = created.json()
    assert (audience["name"], audience["version"], audience["size"]) == ("VIPs", 1, None)
    again = _post(api, VIPS)
    assert (again.status_code, again.json()["changed"]) == (200, False)
    url = f"/v1/audiences/{audience['id']}"

    preview = api.client.post(
        "/v1/audiences/preview",
        json={
            "condition": {
                "kind": "all",
                "conditions": [{"kind": "tag", "tag": "vip"}, {"kind": "tag", "tag": "berlin"}],
            }
        },
        headers=api.admin,
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["exact"] == 1
    assert preview.json()["estimate"] == {
        "count": 1,
        "margin": 0,
        "sampled": 3,
        "contacts": 3,
        "exact": True,
    }
    assert [s["left"] for s in preview.json()["funnel"]] == [2, 1]

    refreshed = api.client.post(f"{url}/refresh", headers=api.admin)
    assert refreshed.status_code == 200, refreshed.text
    assert (refreshed.json()["size"], refreshed.json()["entered"]) == (2, 2)
    with api.services.uow.transaction() as session:
        started = set(
            session.scalars(select(Run.contact_id).where(Run.workflow_id == "vip-welcome"))
        )
    assert started == {ana, ben}
    again = api.client.post(f"{url}/refresh", headers=api.admin)
    assert again.json()["entered"] == 0

    page = api.client.get(f"{url}/members", params={"limit": 1}, headers=api.admin).json()
    assert [m["contact_id"] for m in page["members"]] == [ana]
    rest = api.client.get(
        f"{url}/members", params={"after": page["next_after"]}, headers=api.admin
    ).json()
    assert ([m["contact_id"] for m in rest["members"]], rest["next_after"]) == ([ben], None)

    why = api.client.get(f"{url}/explain/{ben}", headers=api.admin).json()
    assert (why["member"], why["holds"], why["lines"][0]["test"]) == (
        True,
        True,
        "has the tag 'vip'",
    )
    sizes = api.client.get(f"{url}/sizes", headers=api.admin).json()["sizes"]
    assert [(s["size"], s["entered"]) for s in sizes] == [(2, 2)]
    listed = api.client.get("/v1/audiences", headers=api.admin).json()["audiences"]
    assert [(a["name"], a["size"]) for a in listed] == [("VIPs", 2)]

    queued = api.client.post(f"{url}/refresh", params={"background": "true"}, headers=api.admin)
    assert (queued.status_code, queued.json()["kind"]) == (202, "audience_refresh")
    assert queued.json()["params"] == {"audience": "VIPs"}
    followed = api.client.get(queued.headers["location"], headers=api.admin)
    assert followed.json()["id"] == queued.json()["id"]

    assert api.client.delete(url, headers=api.admin).status_code == 204
    assert api.client.get(url, headers=api.admin).status_code == 404


def test_bad_definitions_and_conditions_are_refused_naming_the_field(api: Api) -> None:
    bad = _post(api, "name: X\ncondition: {kind: all, conditions: [{kind: tag}]}")
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "condition.conditions.0.tag"
    regex = _post(api, "name: X\ncondition: {kind: attribute, name: city, op: regex, value: '^B'}")
    assert regex.status_code == 400
    preview = api.client.post(
        "/v1/audiences/preview",
        json={"condition": {"kind": "score", "gte": "high"}},
        headers=api.admin,
    )
    assert preview.status_code == 400
    assert preview.json()["error"]["field"] == "condition.gte"
    assert api.client.get("/v1/audiences/999", headers=api.admin).status_code == 404
    assert api.client.get("/v1/audiences", headers={}).status_code == 401
    saved = _post(api, VIPS).json()
    renamed = api.client.put(
        f"/v1/audiences/{saved['id']}",
        content="name: Top\ncondition: {kind: tag, tag: vip}\n",
        headers={**api.admin, **YAML},
    )
    assert (renamed.status_code, renamed.json()["name"], renamed.json()["version"]) == (
        200,
        "Top",
        2,
    )
