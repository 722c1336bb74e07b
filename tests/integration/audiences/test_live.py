"""Members follow tracked events as the processor applies them (SQLite and PostgreSQL): the
batch's people move at once, with one event per move; a full refresh afterwards finds the same
members (incremental equals recomputation after every batch); a workflow triggered by
Audience Entered starts on the same pass."""

from __future__ import annotations

import itertools
import random
from typing import Any

from sqlalchemy import select

from lealta.audiences import members, service
from lealta.audiences.membership import ENTERED, EXITED, refresh
from lealta.automations import service as workflows
from lealta.automations.tables import Run
from lealta.contacts.tables import Identifier
from tests.integration.audiences.helpers import NOW, events_named
from tests.integration.conftest import Api

LOOKERS = """
name: Shoe lookers
condition:
  kind: all
  conditions:
    - {kind: event_count, event: Product Viewed, within_days: 14, gte: 2,
       where: [{property: category, op: equals, value: shoes}]}
    - {kind: not, condition: {kind: attribute, name: plan, op: equals, value: banned}}
"""
WELCOME = """
id: lookers-offer
name: An offer for shoe lookers
trigger:
  type: event
  event: Audience Entered
  where: [{property: audience, op: equals, value: Shoe lookers}]
steps:
  - {id: done, type: exit, reason: offered}
"""


_NUMBERS = itertools.count()


def _send(api: Api, batch: list[dict[str, Any]]) -> None:
    answer = api.client.post("/v1/batch", json={"batch": batch}, auth=api.track_auth)
    assert answer.status_code == 200, answer.text
    api.drain()


def _view(user: str, category: str) -> dict[str, Any]:
    return {
        "messageId": f"view-{next(_NUMBERS)}",
        "type": "track",
        "userId": user,
        "event": "Product Viewed",
        "properties": {"category": category},
    }


def _members(api: Api) -> set[str]:
    with api.services.uow.transaction() as session:
        audience = service.get(session, "Shoe lookers")
        return {m.contact_id for m in members.page(session, audience, limit=500)}


def _ids(api: Api) -> dict[str, str]:
    with api.services.uow.transaction() as session:
        rows = session.execute(
            select(Identifier.value, Identifier.contact_id).where(Identifier.kind == "user_id")
        )
        return {str(value): str(cid) for value, cid in rows}


def test_members_follow_each_batch_as_a_refresh_would(api: Api) -> None:
    with api.services.uow.transaction() as session:
        service.save(session, LOOKERS, now=NOW)
        workflows.save(session, WELCOME, now=NOW)
        workflows.set_status(session, "lookers-offer", "active", now=NOW)
    _send(api, [_view("ana", "shoes"), _view("ana", "hats"), _view("ben", "shoes")])
    assert _members(api) == set()
    _send(api, [_view("ana", "shoes"), _view("ben", "hats")])
    who = _ids(api)
    assert _members(api) == {who["ana"]}
    _send(api, [{"type": "identify", "userId": "ana", "traits": {"plan": "banned"}}])
    assert _members(api) == set()
    with api.services.uow.transaction() as session:
        assert [cid for cid, _ in events_named(session, ENTERED)] == [who["ana"]]
        assert [cid for cid, _ in events_named(session, EXITED)] == [who["ana"]]
        runs = list(
            session.scalars(select(Run.contact_id).where(Run.workflow_id == "lookers-offer"))
        )
        assert runs == [who["ana"]]

    rng = random.Random(14)
    users = [f"u{n}" for n in range(12)]
    for _batch in range(6):
        _send(
            api,
            [
                _view(rng.choice(users), rng.choice(["shoes", "shoes", "hats"]))
                for _ in range(rng.randrange(1, 8))
            ]
            + [
                {
                    "type": "identify",
                    "userId": rng.choice(users),
                    "traits": {"plan": rng.choice(["banned", "gold"])},
                }
            ],
        )
        followed = _members(api)
        with api.services.uow.transaction() as session:
            audience = service.get(session, "Shoe lookers")
            done = refresh(session, audience, now=api.services.clock.now())
        assert (done.entered, done.exited) == (0, 0)
        assert _members(api) == followed
