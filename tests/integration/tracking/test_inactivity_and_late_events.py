"""The inactivity sweep, and scores that stay exact when events arrive late."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lealta.contacts.tables import Contact, Identifier
from lealta.lifecycle.service import sweep_inactive
from lealta.rulesets.service import lifecycle_model, scoring_model
from lealta.scoring.service import recompute_contact
from tests.integration.conftest import Api


def _person(api: Api, user_id: str) -> Contact:
    with api.services.uow.transaction() as session:
        owner = session.scalar(select(Identifier.contact_id).where(Identifier.value == user_id))
        contact = session.get(Contact, owner)
        assert contact is not None
        return contact


def test_quiet_customers_become_inactive_and_come_back(api: Api) -> None:
    order = {
        "type": "track",
        "userId": "q-1",
        "event": "Order Completed",
        "properties": {"order_id": "Q-1", "total": 20},
        "timestamp": "2025-01-10T10:00:00Z",
    }
    assert api.client.post("/v1/batch", auth=api.track_auth, json={"batch": [order]}).is_success
    api.drain()
    assert _person(api, "q-1").lifecycle_stage == "Customer"
    with api.services.uow.transaction() as session:
        early = sweep_inactive(
            session, lifecycle_model(session), now=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
        )
        late = sweep_inactive(
            session, lifecycle_model(session), now=dt.datetime(2025, 8, 1, tzinfo=dt.UTC)
        )
    assert (early, late) == (0, 1)
    assert _person(api, "q-1").lifecycle_stage == "Inactive"
    visit = {"type": "page", "userId": "q-1", "name": "Home", "timestamp": "2025-09-01T10:00:00Z"}
    assert api.client.post("/v1/batch", auth=api.track_auth, json={"batch": [visit]}).is_success
    api.drain()
    assert _person(api, "q-1").lifecycle_stage == "Visitor"  # reactivated (a backward rule)


def test_a_late_event_refolds_the_score_to_what_a_recomputation_gives(api: Api) -> None:
    def send(event: str, when: str) -> None:
        message = {"type": "track", "userId": "late-1", "event": event, "timestamp": when}
        assert api.client.post("/v1/track", auth=api.track_auth, json=message).is_success
        api.drain()

    send("Webinar Attended", "2026-03-01T10:00:00Z")
    send("Form Submitted", "2026-03-20T10:00:00Z")
    send("Email Clicked", "2026-02-01T10:00:00Z")  # arrives last, happened first
    person = _person(api, "late-1")
    incremental = (person.score, person.score_state)
    with api.services.uow.transaction() as session:
        contact = session.get(Contact, person.id)
        assert contact is not None
        recompute_contact(session, contact, scoring_model(session))
        assert (contact.score, contact.score_state) == incremental
    # 3 points decayed over 28 days, + 20, decayed 19 days, + 15 (half-life 30 days).
    expected = (3 * 0.5 ** (28 / 30) + 20) * 0.5 ** (19 / 30) + 15
    assert abs(incremental[0] - expected) < 1e-9
