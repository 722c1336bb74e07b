"""A dry run counts who would take each branch, and writes nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from lealta.automations.tables import Run
from lealta.clock import FrozenClock
from lealta.contacts.tables import ContactTag
from lealta.identity.service import resolve
from tests.integration.conftest import Api

T0 = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
FLOW = """
id: vip-or-not
name: VIP or not
trigger: {type: manual}
steps:
  - {id: check, type: if, condition: {kind: tag, tag: vip}, then: vip-mail, else: plain-mail}
  - {id: vip-mail, type: send, channel: email, template: vip}
  - {id: stop, type: exit}
  - {id: plain-mail, type: send, channel: email, template: plain}
"""


def test_dry_run_counts_branches_without_writing(api: Api) -> None:
    api.services.clock = FrozenClock(T0)
    with api.services.uow.transaction() as session:
        for i in range(5):
            contact = resolve(session, {"user_id": f"u{i}"}, T0)
            if i < 3:
                session.add(ContactTag(contact_id=contact.id, tag="vip", created_at=T0))
            session.add(ContactTag(contact_id=contact.id, tag="all", created_at=T0))
    headers = {**api.admin, "Content-Type": "application/yaml"}
    assert api.client.post("/v1/automations", content=FLOW, headers=headers).status_code == 201
    answer = api.client.post(
        "/v1/automations/vip-or-not/dry-run", json={"tag": "all", "days": 2}, headers=api.admin
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["contacts"] == 5
    assert result["commands"] == {"vip-mail:Send": 3, "plain-mail:Send": 2}
    assert result["steps"]["check"]["branch:then"] == 3
    assert result["steps"]["check"]["branch:else"] == 2
    with api.services.uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Run)) == 0


def test_templates_are_listed_and_installed(api: Api) -> None:
    listed = api.client.get("/v1/automations/templates", headers=api.admin).json()["templates"]
    ids = {t["id"] for t in listed}
    assert {"abandoned-cart", "birthday", "welcome-series", "win-back"} <= ids
    answer = api.client.post("/v1/automations/templates/birthday", headers=api.admin)
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "draft"
    assert api.client.post("/v1/automations/templates/nope", headers=api.admin).status_code == 404
