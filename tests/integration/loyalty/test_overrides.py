"""Tiers by decision over REST: set, kept by reviews, expired (frozen clock), removed; the card."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lealta.clock import FrozenClock
from lealta.events.tables import Event
from lealta.loyalty import service
from lealta.loyalty.tables import TierChange
from lealta.rest.app import create_app
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import PROGRAM, ids, post_orders, tiers

D = dt.date


@dataclasses.dataclass
class Frozen:
    """The API on a clock the test moves."""

    api: Api
    clock: FrozenClock
    client: TestClient

    def on(self, day: D) -> None:
        self.clock.current = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)

    def review(self, day: D) -> None:
        self.on(day)
        services = dataclasses.replace(self.api.services, clock=self.clock)
        service.apply_program(services, as_of=day)

    def put(self, contact: str, **body: Any) -> Any:
        return self.client.put(
            f"/v1/contacts/{contact}/loyalty/override", json=body, headers=self.api.admin
        )


@pytest.fixture
def frozen(api: Api) -> Iterator[Frozen]:
    clock = FrozenClock(dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC))
    services = dataclasses.replace(api.services, clock=clock)
    with TestClient(create_app(services)) as client:
        yield Frozen(api, clock, client)


def setup(frozen: Frozen) -> str:
    """Ana with one order (Member), the programme saved and reviewed on 1 February."""
    post_orders(frozen.api, [("ana", "a1", D(2026, 1, 10), "40")])
    with frozen.api.services.uow.transaction() as session:
        service.save(session, PROGRAM, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    frozen.review(D(2026, 2, 1))
    (ana,) = ids(frozen.api, "ana").values()
    assert tiers(frozen.api)[ana].tier == "Member"
    return ana


def history(api: Api, contact: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with api.services.uow.transaction() as session:
        moves = [
            (c.from_tier, c.to_tier, c.changed_at.date(), c.reason)
            for c in session.scalars(
                select(TierChange).where(TierChange.contact_id == contact).order_by(TierChange.id)
            )
        ]
        events = [
            (e.name, e.occurred_at.date(), dict(e.properties))
            for e in session.scalars(
                select(Event)
                .where(Event.contact_id == contact, Event.name.like("Loyalty%"))
                .order_by(Event.occurred_at, Event.id)
            )
        ]
    return moves, events


def test_a_decision_holds_until_its_last_day_then_the_grace_applies(frozen: Frozen) -> None:
    ana = setup(frozen)
    frozen.on(D(2026, 2, 10))
    answer = frozen.put(ana, tier="gold", reason="Press partner", until="2026-03-31")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["tier_before"], body["tier"]) == ("Member", "Gold")  # the programme's spelling
    assert body["override"]["active"] is True
    row = tiers(frozen.api)[ana]
    assert (row.tier, row.since, row.until) == ("Gold", D(2026, 2, 10), D(2026, 3, 31))
    card = frozen.client.get(f"/v1/contacts/{ana}/loyalty", headers=frozen.api.admin).json()
    assert card["tier"] == "Gold"
    assert card["by_decision"]["reason"] == "Press partner"
    assert card["by_decision"]["until"] == "2026-03-31"
    assert [b["code"] for b in card["benefits"]] == ["SHIP50", "GOLD10"]

    # reviews keep the decision through its last day (she qualifies for Member only)
    for day in (D(2026, 3, 1), D(2026, 3, 31)):
        frozen.review(day)
        row = tiers(frozen.api)[ana]
        assert (row.tier, row.falling_since, row.qualified_by) == (
            "Gold",
            None,
            "by decision: Press partner",
        )
    # the day after, the status rules apply: the fall starts, with 30 days' grace
    frozen.review(D(2026, 4, 1))
    row = tiers(frozen.api)[ana]
    assert (row.tier, row.falling_since) == ("Gold", D(2026, 4, 1))
    assert row.qualified_by == "in grace until 2026-04-30"
    card = frozen.client.get(f"/v1/contacts/{ana}/loyalty", headers=frozen.api.admin).json()
    assert card["by_decision"] is None
    assert card["keep"] == {
        "to_tier": "Silver",
        "drops_on": "2026-05-01",
        "words": "qualifying for Gold again: at least 4 orders in 365 days or at least €500 "
        "spent in 365 days",
    }
    frozen.review(D(2026, 4, 30))
    assert tiers(frozen.api)[ana].tier == "Gold"
    frozen.review(D(2026, 5, 1))
    assert tiers(frozen.api)[ana].tier == "Silver"  # one step down per review

    moves, events = history(frozen.api, ana)
    assert [m[:3] for m in moves] == [
        (None, "Member", D(2026, 2, 1)),
        ("Member", "Gold", D(2026, 2, 10)),
        ("Gold", "Silver", D(2026, 5, 1)),
    ]
    assert moves[1][3] == "by decision: Press partner"
    assert [(name, day) for name, day, _ in events] == [
        ("Loyalty Tier Upgraded", D(2026, 2, 1)),
        ("Loyalty Tier Upgraded", D(2026, 2, 10)),
        ("Loyalty Tier At Risk", D(2026, 4, 1)),
        ("Loyalty Tier Downgraded", D(2026, 5, 1)),
    ]
    assert events[1][2] == {"from": "Member", "to": "Gold", "reason": "by decision: Press partner"}
    assert events[2][2]["drops_on"] == "2026-05-01"
    assert events[2][2]["to_tier"] == "Silver"


def test_removing_a_decision_keeps_the_tier_until_the_status_rules_drop_it(
    frozen: Frozen,
) -> None:
    ana = setup(frozen)
    frozen.on(D(2026, 2, 10))
    assert frozen.put(ana, tier="Gold", reason="Founder's friend").status_code == 200
    listed = frozen.client.get("/v1/loyalty/overrides", headers=frozen.api.admin).json()
    assert [(o["contact_id"], o["tier"], o["until"]) for o in listed["overrides"]] == [
        (ana, "Gold", None)
    ]
    frozen.review(D(2026, 2, 15))
    assert tiers(frozen.api)[ana].tier == "Gold"

    frozen.on(D(2026, 2, 20))
    removed = frozen.client.delete(f"/v1/contacts/{ana}/loyalty/override", headers=frozen.api.admin)
    assert removed.status_code == 200, removed.text
    assert (removed.json()["tier"], removed.json()["override"]) == ("Gold", None)
    row = tiers(frozen.api)[ana]
    assert (row.tier, row.until) == ("Gold", D(2026, 2, 20))  # kept through the day removed
    again = frozen.client.delete(f"/v1/contacts/{ana}/loyalty/override", headers=frozen.api.admin)
    assert again.status_code == 404
    listed = frozen.client.get("/v1/loyalty/overrides", headers=frozen.api.admin).json()
    assert listed["overrides"] == []

    frozen.review(D(2026, 2, 21))
    row = tiers(frozen.api)[ana]
    assert (row.tier, row.falling_since) == ("Gold", D(2026, 2, 21))
    frozen.review(D(2026, 3, 23))
    assert tiers(frozen.api)[ana].tier == "Silver"


def test_a_decision_to_a_lower_tier_is_a_downgrade_and_expired_ones_are_listed_on_demand(
    frozen: Frozen,
) -> None:
    ana = setup(frozen)
    frozen.on(D(2026, 2, 10))
    frozen.put(ana, tier="Gold", reason="VIP", until="2026-02-12")
    frozen.on(D(2026, 2, 11))
    answer = frozen.put(ana, tier="Member", reason="Chargebacks", until="2026-02-12")
    assert (answer.json()["tier_before"], answer.json()["tier"]) == ("Gold", "Member")
    moves, events = history(frozen.api, ana)
    assert moves[-1][:2] == ("Gold", "Member")
    assert events[-1][0] == "Loyalty Tier Downgraded"
    frozen.on(D(2026, 2, 13))
    assert frozen.client.get("/v1/loyalty/overrides", headers=frozen.api.admin).json() == {
        "overrides": []
    }
    everything = frozen.client.get(
        "/v1/loyalty/overrides", params={"include_expired": "true"}, headers=frozen.api.admin
    ).json()["overrides"]
    assert [(o["tier"], o["active"]) for o in everything] == [("Member", False)]


def test_bad_decisions_are_refused_naming_the_field(frozen: Frozen) -> None:
    ana = setup(frozen)
    frozen.on(D(2026, 2, 10))
    unknown = frozen.put(ana, tier="Diamond", reason="x")
    assert unknown.status_code == 400
    assert unknown.json()["error"]["field"] == "tier"
    assert "Member, Silver, Gold" in unknown.json()["error"]["message"]
    past = frozen.put(ana, tier="Gold", reason="x", until="2026-01-01")
    assert (past.status_code, past.json()["error"]["field"]) == (400, "until")
    blank = frozen.put(ana, tier="Gold", reason="   ")
    assert (blank.status_code, blank.json()["error"]["field"]) == (400, "reason")
    nobody = frozen.put("0" * 32, tier="Gold", reason="x")
    assert nobody.status_code == 404
    track = frozen.client.put(
        f"/v1/contacts/{ana}/loyalty/override",
        json={"tier": "Gold", "reason": "x"},
        auth=frozen.api.track_auth,
    )
    assert track.status_code in (401, 403)
    assert tiers(frozen.api)[ana].tier == "Member"
