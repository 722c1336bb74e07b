"""Applying messages a batch at a time gives exactly what applying them one by one gives."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lealta.contacts.tables import Contact, Identifier
from lealta.events.tables import Event
from lealta.lifecycle.tables import StageChange
from lealta.rulesets.service import scoring_model
from lealta.scoring.service import recompute_contact
from lealta.scoring.tables import ScoreChange
from lealta.tracking.processor import process_all, process_pending
from tests.integration.conftest import Api

PEOPLE = 3


def _messages(prefix: str) -> list[dict[str, Any]]:
    """Each person's history, interleaved across people: visits, traits, scored actions (one
    crossing a threshold), an order, and an event that arrives after later ones (a refold)."""
    steps = [
        ("page", {"name": "Home"}, "2026-03-01T10:00:00Z"),
        (
            "identify",
            {"traits": {"email": "{p}@example.com", "city": "Porto"}},
            "2026-03-01T10:01:00Z",
        ),
        ("track", {"event": "Webinar Attended"}, "2026-03-02T10:00:00Z"),
        ("track", {"event": "Form Submitted"}, "2026-03-03T10:00:00Z"),
        ("track", {"event": "Demo Requested"}, "2026-03-04T10:00:00Z"),
        (
            "track",
            {"event": "Order Completed", "properties": {"order_id": "{p}-o1", "total": 30}},
            "2026-03-05T10:00:00Z",
        ),
        ("track", {"event": "Email Clicked"}, "2026-02-01T10:00:00Z"),  # late
        ("track", {"event": "Demo Requested"}, "2026-02-02T10:00:00Z"),  # late, scores nothing
    ]
    batch = []
    for step, (kind, fields, when) in enumerate(steps):
        for person in range(PEOPLE):
            who = f"{prefix}{person}"
            message = _fill({"type": kind, **fields}, who)
            message.update(userId=who, messageId=f"{who}-{step}", timestamp=when)
            batch.append(message)
    return batch


def _fill(value: Any, who: str) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, who) for k, v in value.items()}
    return value.replace("{p}", who) if isinstance(value, str) else value


def _outcome(api: Api, prefix: str) -> list[Any]:
    """What each person ended with, with their own names taken out."""
    found = []
    with api.services.uow.transaction() as session:
        for person in range(PEOPLE):
            who = f"{prefix}{person}"
            cid = session.scalar(select(Identifier.contact_id).where(Identifier.value == who))
            contact = session.get(Contact, cid)
            assert contact is not None
            events = session.execute(
                select(Event.name, Event.type, Event.occurred_at, Event.properties)
                .where(Event.contact_id == cid)
                .order_by(Event.occurred_at, Event.name)
            ).all()
            stages = session.execute(
                select(StageChange.from_stage, StageChange.to_stage, StageChange.rule_id)
                .where(StageChange.contact_id == cid)
                .order_by(StageChange.changed_at, StageChange.to_stage)
            ).all()
            scores = session.execute(
                select(ScoreChange.rule_id, ScoreChange.points, ScoreChange.score_after)
                .where(ScoreChange.contact_id == cid)
                .order_by(ScoreChange.occurred_at, ScoreChange.rule_id)
            ).all()
            profile = (
                contact.lifecycle_stage,
                contact.score,
                contact.attributes,
                contact.first_seen_at,
                contact.last_seen_at,
            )
            found.append(
                repr((profile, contact.score_state, events, stages, scores)).replace(who, "*")
            )
    return found


def test_a_batch_gives_what_one_message_at_a_time_gives(api: Api) -> None:
    together, alone = _messages("t"), _messages("a")
    answer = api.client.post("/v1/batch", auth=api.track_auth, json={"batch": together})
    assert answer.is_success
    assert process_all(api.services) == len(together)
    answer = api.client.post("/v1/batch", auth=api.track_auth, json={"batch": alone})
    assert answer.is_success
    while process_pending(api.services, limit=1):
        pass
    batched, single = _outcome(api, "t"), _outcome(api, "a")
    assert batched == single
    assert "Lead Score Threshold Crossed" in batched[0]  # the rules do cross a threshold
    assert "Lifecycle Stage Changed" in batched[0]
    with api.services.uow.transaction() as session:  # and the scores equal a refold
        model = scoring_model(session)
        for person in range(PEOPLE):
            cid = session.scalar(
                select(Identifier.contact_id).where(Identifier.value == f"t{person}")
            )
            contact = session.get(Contact, cid)
            assert contact is not None
            kept = (contact.score, dict(contact.score_state))
            recompute_contact(session, contact, model)
            assert (contact.score, contact.score_state) == kept
