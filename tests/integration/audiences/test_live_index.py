"""The live path tests only the audiences a batch can affect (SQLite and PostgreSQL): an
audience on 'Product Viewed' is not evaluated for a batch of 'Page Viewed' only, a new profile
is still tested against every audience, and over random batches of mixed messages the followed
members of every audience equal a full refresh after every batch."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Any

import pytest

from lealta.audiences import live, members, service
from lealta.audiences.membership import refresh
from tests.integration.audiences.helpers import NOW
from tests.integration.conftest import Api

AUDIENCES = [
    """
name: Product viewers
condition: {kind: event_count, event: Product Viewed, gte: 2,
            where: [{property: category, op: equals, value: shoes}]}
""",
    """
name: Not banned
condition: {kind: not, condition: {kind: attribute, name: plan, op: equals, value: banned}}
""",
    """
name: Banned viewers
condition:
  kind: all
  conditions:
    - {kind: audience, audience: Product viewers}
    - {kind: not, condition: {kind: audience, audience: Not banned}}
""",
    """
name: Page readers
condition: {kind: event_count, event: Page Viewed, gte: 3}
""",
]
NAMES = ["Product viewers", "Not banned", "Banned viewers", "Page readers"]
_NUMBERS = itertools.count()


def _send(api: Api, batch: list[dict[str, Any]]) -> None:
    answer = api.client.post("/v1/batch", json={"batch": batch}, auth=api.track_auth)
    assert answer.status_code == 200, answer.text
    api.drain()


def _track(user: str, event: str, category: str = "shoes") -> dict[str, Any]:
    return {
        "messageId": f"m-{next(_NUMBERS)}",
        "type": "track",
        "userId": user,
        "event": event,
        "properties": {"category": category},
    }


def _identify(user: str, plan: str) -> dict[str, Any]:
    return {"type": "identify", "userId": user, "traits": {"plan": plan}}


@pytest.fixture
def tested(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """(audience, how many people) for each audience the live path evaluates."""
    with api.services.uow.transaction() as session:
        for text in AUDIENCES:
            service.save(session, text, now=NOW)
    calls: list[tuple[str, int]] = []
    real = live._follow_one

    def spy(session: Any, audience: Any, condition: Any, ids: Sequence[str], now: Any) -> Any:
        calls.append((audience.name, len(ids)))
        return real(session, audience, condition, ids, now)

    monkeypatch.setattr(live, "_follow_one", spy)
    return calls


def _followed_equal_refreshed(api: Api) -> None:
    with api.services.uow.transaction() as session:
        for name in NAMES:
            audience = service.get(session, name)
            before = {m.contact_id for m in members.page(session, audience, limit=500)}
            done = refresh(session, audience, now=api.services.clock.now())
            after = {m.contact_id for m in members.page(session, audience, limit=500)}
            assert (name, done.entered, done.exited) == (name, 0, 0)
            assert after == before


def test_a_batch_of_page_views_skips_the_product_view_audience(
    api: Api, tested: list[tuple[str, int]]
) -> None:
    _send(api, [_track("ana", "Page Viewed"), _track("ben", "Page Viewed")])
    # new profiles: tested against every audience once
    assert sorted(tested) == sorted((name, 2) for name in NAMES)
    tested.clear()
    _send(api, [_track("ana", "Page Viewed"), _track("ben", "Page Viewed")])
    assert [name for name, _ in tested] == ["Page readers"]
    tested.clear()
    _send(api, [_track("ana", "Product Viewed")])
    assert sorted(name for name, _ in tested) == ["Banned viewers", "Product viewers"]
    tested.clear()
    _send(api, [_identify("ana", "banned")])  # traits may change anything
    assert sorted(name for name, _ in tested) == sorted(NAMES)
    _followed_equal_refreshed(api)


def test_followed_members_equal_a_refresh_after_every_batch(
    api: Api, tested: list[tuple[str, int]]
) -> None:
    rng = random.Random(1414)
    users = [f"u{n}" for n in range(10)]
    partial = 0
    for _batch in range(12):
        batch = [
            _track(
                rng.choice(users),
                rng.choice(["Product Viewed", "Page Viewed", "Signed Up"]),
                rng.choice(["shoes", "hats"]),
            )
            for _ in range(rng.randrange(1, 6))
        ]
        if rng.random() < 0.4:
            batch.append(_identify(rng.choice(users), rng.choice(["banned", "gold"])))
        tested.clear()
        _send(api, batch)
        partial += len({name for name, _ in tested}) < len(NAMES)
        _followed_equal_refreshed(api)
    assert partial  # the seed gives batches that skip some audiences
