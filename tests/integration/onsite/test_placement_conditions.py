"""A placement's audience written in the shared condition language, over the API (SQLite and
PostgreSQL): stored whole, read back, and matched on what the visitor did."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert

from lealta.events.tables import Event
from tests.integration.conftest import Api
from tests.integration.onsite.conftest import templates, visitor
from tests.integration.onsite.test_placements_api import PLACEMENTS, put, shown

SHOE_VIEWERS = {
    "kind": "event_count",
    "event": "Product Viewed",
    "within_days": 14,
    "gte": 2,
    "where": [{"property": "category", "op": "equals", "value": "shoes"}],
}


def _viewed(api: Api, contact_id: str, *days_ago: int) -> None:
    now = dt.datetime.now(dt.UTC)
    with api.services.uow.transaction() as session:
        session.execute(
            insert(Event),
            [
                {
                    "message_id": f"{contact_id}-{n}",
                    "contact_id": contact_id,
                    "type": "track",
                    "name": "Product Viewed",
                    "properties": {"category": "shoes"},
                    "occurred_at": now - dt.timedelta(days=days),
                }
                for n, days in enumerate(days_ago)
            ],
        )


def test_a_placement_for_recent_shoe_viewers_reaches_them_only(api: Api) -> None:
    templates(api.services.uow)
    body = put(
        api,
        "hero-shoes",
        slot="hero",
        template="vip-banner",
        audience={"version": 1, "condition": SHOE_VIEWERS},
        priority=10,
    )
    assert body["audience"]["condition"]["kind"] == "event_count"
    put(api, "hero-all", slot="hero", template="everyone-banner")
    _viewed(api, visitor(api.services.uow, "aid-keen"), 1, 3)
    _viewed(api, visitor(api.services.uow, "aid-once"), 1, 20)
    assert shown(api, "hero", anonymousId="aid-keen") == "hero-shoes"
    assert shown(api, "hero", anonymousId="aid-once") == "hero-all"
    assert shown(api, "hero", anonymousId="never-seen") == "hero-all"
    read = api.client.get(f"{PLACEMENTS}/hero-shoes", headers=api.admin).json()
    assert read["audience"]["condition"]["where"][0]["value"] == "shoes"


def test_a_workflow_only_condition_is_refused_naming_the_audience(api: Api) -> None:
    answer = api.client.put(
        f"{PLACEMENTS}/bad",
        json={
            "slot": "hero",
            "template": "vip-banner",
            "audience": {"condition": {"kind": "purchased_since_entered"}},
        },
        headers=api.admin,
    )
    assert answer.status_code in (400, 422), answer.text
    assert "audience" in answer.text
    assert "workflow run" in answer.text
