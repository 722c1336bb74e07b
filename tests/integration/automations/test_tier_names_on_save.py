"""Workflows naming loyalty tiers are checked against the programme in force when saved: over
REST, in the console's YAML editor, and for the shipped loyalty workflows."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from fastapi.testclient import TestClient

from lealta.automations import catalog
from lealta.automations import service as workflows
from lealta.automations.tables import Workflow
from lealta.loyalty import service as loyalty
from lealta.storage.base import utcnow
from lealta.users.service import create_user
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import PROGRAM

PASSWORD = "correct horse battery"
YAML = "application/yaml"

FRENCH = """
name: Amis
window_days: 365
tiers:
  - name: Bronze
  - name: Argent
    qualify: {orders: 2}
  - name: Or
    qualify: {orders: 4}
"""


def workflow(condition: str, *, goal: str | None = None) -> str:
    """A small workflow whose ``vip`` step tests ``condition``."""
    lines = [
        "id: vip-care",
        "name: VIP care",
        "trigger: {type: manual}",
        *([f"goal: {{condition: {goal}}}"] if goal else []),
        "steps:",
        f"  - {{id: vip, type: if, condition: {condition}, then: tag, else: done}}",
        "  - {id: tag, type: tag, add: [vip], next: done}",
        "  - {id: done, type: exit}",
    ]
    return "\n".join(lines) + "\n"


def save_program(api: Api, text: str = PROGRAM) -> None:
    with api.services.uow.transaction() as session:
        loyalty.save(session, text, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


def post(api: Api, text: str) -> tuple[int, dict[str, object]]:
    answer = api.client.post(
        "/v1/automations", content=text, headers={**api.admin, "Content-Type": YAML}
    )
    return answer.status_code, answer.json()


def stored(api: Api) -> bool:
    with api.services.uow.transaction() as session:
        return session.get(Workflow, "vip-care") is not None


def test_an_unknown_tier_is_refused_naming_the_step_the_tier_and_the_tiers(api: Api) -> None:
    save_program(api)

    status, body = post(api, workflow("{kind: loyalty_tier, in: [Gold, Goldd]}"))

    assert status == 400, body
    error = body["error"]
    assert isinstance(error, dict)
    assert error["field"] == "steps.vip.condition"
    assert "step 'vip'" in error["message"]
    assert "no loyalty tier 'Goldd'" in error["message"]
    assert "its tiers are Member, Silver, Gold" in error["message"]
    assert not stored(api)


def test_tiers_deep_in_a_condition_and_in_the_goal_are_checked_too(api: Api) -> None:
    save_program(api)
    nested = (
        "{kind: all, conditions: "
        "[{kind: not, condition: {kind: loyalty_tier, at_least: Platinum}}]}"
    )

    status, body = post(api, workflow(nested))
    assert status == 400, body
    assert "'Platinum'" in str(body)

    status, body = post(
        api,
        workflow("{kind: loyalty_tier}", goal="{kind: loyalty_tier, at_least: Diamant}"),
    )
    assert status == 400, body
    error = body["error"]
    assert isinstance(error, dict)
    assert (error["field"], "the goal" in error["message"]) == ("goal.condition", True)
    assert not stored(api)


def test_known_tiers_in_any_case_are_saved(api: Api) -> None:
    save_program(api)

    status, body = post(api, workflow("{kind: loyalty_tier, in: [gold, SILVER]}"))

    assert status == 201, body
    assert stored(api)


def test_without_a_programme_named_tiers_are_refused_and_the_bare_form_is_saved(
    api: Api,
) -> None:
    status, body = post(api, workflow("{kind: loyalty_tier, at_least: Gold}"))

    assert status == 400, body
    error = body["error"]
    assert isinstance(error, dict)
    assert error["field"] == "steps.vip.condition"
    assert "no loyalty programme is in force" in error["message"]
    assert "'Gold'" in error["message"]
    assert not stored(api)

    status, body = post(api, workflow("{kind: loyalty_tier}"))
    assert status == 201, body


@pytest.mark.parametrize(
    "template_id", [t.id for t in catalog.templates() if t.id.startswith("loyalty-")]
)
def test_the_shipped_loyalty_workflows_install_under_other_tier_names(
    api: Api, template_id: str
) -> None:
    save_program(api, FRENCH)

    answer = api.client.post(f"/v1/automations/templates/{template_id}", headers=api.admin)

    assert answer.status_code == 201, answer.text


def _sign_in(api: Api) -> TestClient:
    email = "marketer@example.com"
    with api.services.uow.transaction() as session:
        create_user(session, email=email, role="marketer", password=PASSWORD, now=utcnow())
    form = api.client.get("/signin")
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert token
    api.client.post(
        "/signin", data={"email": email, "password": PASSWORD, "token": token[1], "next": "/"}
    )
    return api.client


def test_the_console_yaml_editor_is_refused_and_saves_nothing(api: Api) -> None:
    save_program(api)
    with api.services.uow.transaction() as session:
        workflows.save(session, workflow("{kind: loyalty_tier}"), now=utcnow())
    client = _sign_in(api)
    page = client.get("/journeys/vip-care/yaml")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf

    answer = client.post(
        "/journeys/vip-care/yaml",
        data={
            "csrf": csrf[1],
            "base": "1",
            "yaml": workflow("{kind: loyalty_tier, at_least: Goldd}"),
        },
    )

    # refused on the editor's page, the problem placed on its step
    assert answer.status_code == 422
    assert not answer.text.lstrip().startswith("{")  # a page, not the API's JSON
    shown = html.unescape(answer.text)
    assert "no loyalty tier 'Goldd'" in shown
    assert "Member, Silver, Gold" in shown
    with api.services.uow.transaction() as session:
        assert workflows.get(session, "vip-care").current_version == 1
