"""A programme that renames or removes a tier still named by saved workflows (conditions and
tier-event triggers) or on-site placements: the uses are listed, and the console's editor saves
it only once the marketer confirms (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import html
import re

from fastapi.testclient import TestClient

from lealta.automations import service as workflows
from lealta.loyalty import service as loyalty
from lealta.loyalty.program import load_program
from lealta.loyalty.tier_uses import uses_of_dropped
from lealta.onsite.tables import OnsitePlacement
from lealta.storage.base import utcnow
from lealta.users.service import create_user
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import PROGRAM

PASSWORD = "correct horse battery"
RENAMED = PROGRAM.replace("name: Gold", "name: Or")
WORKFLOWS = [
    """
id: gold-care
name: Gold care
trigger: {type: manual}
goal: {condition: {kind: loyalty_tier, in: [Gold, Silver]}}
steps:
  - {id: vip, type: if, condition: {kind: loyalty_tier, at_least: Gold}, then: tag, else: done}
  - {id: tag, type: tag, add: [vip], next: done}
  - {id: done, type: exit}
""",
    """
id: gold-welcome
name: Welcome to Gold
trigger:
  type: event
  event: Loyalty Tier Upgraded
  where: [{property: to, op: equals, value: Gold}]
steps:
  - {id: tag, type: tag, add: [gold], next: done}
  - {id: done, type: exit}
""",
    """
id: any-tier
name: Any tier
trigger: {type: manual}
steps:
  - {id: vip, type: if, condition: {kind: loyalty_tier}, then: done, else: done}
  - {id: done, type: exit}
""",
]


def setup(api: Api) -> None:
    now = utcnow()
    with api.services.uow.transaction() as session:
        loyalty.save(session, PROGRAM, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        for text in WORKFLOWS:
            workflows.save(session, text, now=now)
        session.add(
            OnsitePlacement(
                id="gold-banner", slot="home", template="gold", audience={"tiers": ["gold"]}
            )
        )


def uses(api: Api, text: str) -> list[str]:
    with api.services.uow.transaction() as session:
        stored = loyalty.get(session)
        found = uses_of_dropped(session, stored.program if stored else None, load_program(text))
        return sorted(str(use) for use in found)


def test_every_use_of_a_renamed_tier_is_listed(api: Api) -> None:
    setup(api)
    assert uses(api, RENAMED) == [
        "on-site placement 'gold-banner' (audience tiers) names tier 'gold'",
        "workflow 'gold-care', step 'vip' names tier 'Gold'",
        "workflow 'gold-care', the goal names tier 'Gold'",
        "workflow 'gold-welcome', trigger (to) names tier 'Gold'",
    ]
    # Silver is named too, but kept: only the dropped tier counts
    removed = PROGRAM.replace("name: Silver", "name: Argent")
    assert uses(api, removed) == ["workflow 'gold-care', the goal names tier 'Silver'"]


def test_a_kept_tier_or_a_case_change_is_no_use(api: Api) -> None:
    setup(api)
    assert uses(api, PROGRAM) == []
    assert uses(api, PROGRAM.replace("name: Gold", "name: GOLD")) == []


def test_without_a_programme_in_force_nothing_is_dropped(api: Api) -> None:
    assert uses(api, RENAMED) == []


def _editor(api: Api) -> tuple[TestClient, str]:
    email = "marketer@example.com"
    with api.services.uow.transaction() as session:
        create_user(session, email=email, role="marketer", password=PASSWORD, now=utcnow())
    form = api.client.get("/signin")
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert token
    api.client.post(
        "/signin", data={"email": email, "password": PASSWORD, "token": token[1], "next": "/"}
    )
    page = api.client.get("/loyalty/program")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    return api.client, csrf[1]


def test_the_editor_lists_the_uses_and_saves_only_once_confirmed(api: Api) -> None:
    setup(api)
    client, csrf = _editor(api)
    form = {"csrf": csrf, "yaml": RENAMED, "op": "save"}

    refused = client.post("/loyalty/program", data=form, follow_redirects=False)
    assert refused.status_code == 409
    shown = html.unescape(refused.text)
    assert "Not saved yet: 4 places still name a tier this programme drops" in shown
    assert "workflow 'gold-welcome', trigger (to)" in shown
    assert "Save anyway" in shown
    assert "name: Or" in shown  # the edited text is kept
    with api.services.uow.transaction() as session:
        assert loyalty.require(session).version == 1

    previewed = client.post("/loyalty/program", data={**form, "op": "preview"})
    assert previewed.status_code == 200
    assert "4 places still name a tier this programme drops" in html.unescape(previewed.text)

    saved = client.post(
        "/loyalty/program", data={**form, "confirm_dropped": "yes"}, follow_redirects=False
    )
    assert saved.status_code == 303
    with api.services.uow.transaction() as session:
        assert loyalty.require(session).program.tier_names() == ["Member", "Silver", "Or"]
