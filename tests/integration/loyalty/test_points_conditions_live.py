"""The ``loyalty_points`` workflow condition live (SQLite and PostgreSQL): a workflow imported
through the API and run by the real runner branches on each contact's balance now (the
latest ledger entry's running balance, 0 without one), and the dry run sees the same."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lealta.automations.runner import advance_all
from lealta.contacts.tables import ContactTag
from lealta.loyalty import ledger, service
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import ids
from tests.integration.loyalty.points_helpers import START, track, with_points

WORKFLOW = """
id: points-check
name: Points check
trigger: {type: event, event: Points Check}
steps:
  - id: rich
    type: if
    condition: {kind: loyalty_points, gte: 500}
    then: tag-rich
    else: none
  - id: none
    type: if
    condition: {kind: loyalty_points, lte: 0}
    then: tag-none
    else: tag-some
  - {id: tag-rich, type: tag, add: [points-500], next: done}
  - {id: tag-none, type: tag, add: [no-points], next: done}
  - {id: tag-some, type: tag, add: [some-points], next: done}
  - {id: done, type: exit}
"""


def _adjust(api: Api, contact_id: str, points: int, key: str) -> None:
    with api.services.uow.transaction() as session:
        program = service.require(session).program
    ledger.write(
        api.services.uow,
        lambda s: ledger.adjust(
            s,
            contact_id,
            program,
            points=points,
            reason="test",
            key=key,
            now=api.services.clock.now(),
            actor="test",
        ),
    )


def _redeem(api: Api, contact_id: str, option: str) -> None:
    with api.services.uow.transaction() as session:
        program = service.require(session).program
    ledger.write(
        api.services.uow,
        lambda s: ledger.redeem(
            s,
            contact_id,
            program,
            option=option,
            key=f"redeem-{option}",
            now=api.services.clock.now(),
            actor="test",
        ),
    )


def _tags(api: Api) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    with api.services.uow.transaction() as session:
        for contact_id, tag in session.execute(select(ContactTag.contact_id, ContactTag.tag)):
            found.setdefault(contact_id, set()).add(tag)
    return found


def test_a_workflow_branches_on_the_points_balance_now(api: Api) -> None:
    clock = with_points(api)
    yaml = api.admin | {"Content-Type": "application/yaml"}
    stored = api.client.post("/v1/automations", content=WORKFLOW, headers=yaml)
    assert stored.status_code == 201, stored.text
    enabled = api.client.post("/v1/automations/points-check/enable", headers=api.admin)
    assert enabled.is_success, enabled.text
    for user in ("ana", "ben", "cruz"):
        track(api, user, "Signed Up", START)
    who = ids(api, "ana", "ben", "cruz")
    _adjust(api, who["ana"], 600, "welcome")
    _adjust(api, who["ben"], 700, "welcome")
    _redeem(api, who["ben"], "EUR5")  # 700 - 500: the latest entry's balance is 200
    clock.advance(minutes=5)

    dry = api.client.post("/v1/automations/points-check/dry-run", json={}, headers=api.admin)
    assert dry.status_code == 200, dry.text
    steps = dry.json()["steps"]
    assert steps["rich"] == {"entered": 3, "branch:then": 1, "branch:else": 2}
    assert {step: steps[step].get("tagged") for step in ("tag-rich", "tag-none", "tag-some")} == {
        "tag-rich": 1,
        "tag-none": 1,
        "tag-some": 1,
    }

    later = clock.now() + dt.timedelta(minutes=1)
    for user in ("ana", "ben", "cruz"):
        track(api, user, "Points Check", later)
    advance_all(api.services)
    tags = _tags(api)
    assert tags.get(who["ana"]) == {"points-500"}
    assert tags.get(who["ben"]) == {"some-points"}
    assert tags.get(who["cruz"]) == {"no-points"}
