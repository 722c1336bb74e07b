"""``loyalty.progress`` in the render context: the contact card's progress to the next tier,
worked out for a whole batch of contacts at once when a template first reads it (SQLite and
PostgreSQL, real review, frozen clock)."""

from __future__ import annotations

import datetime as dt

from lealta.loyalty import service as loyalty
from lealta.messages.context import contexts_for
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import PROGRAM, at, ids, post_orders

D = dt.date


def test_the_context_carries_the_cards_progress_for_the_whole_batch(api: Api) -> None:
    answer = api.client.put(
        "/v1/loyalty/program",
        content=PROGRAM,
        headers=api.admin | {"Content-Type": "application/yaml"},
    )
    assert answer.status_code == 200, answer.text
    post_orders(
        api,
        [("ana", "a1", D(2026, 3, 1), "30"), ("ana", "a2", D(2026, 4, 1), "30")]
        + [("ben", "b1", D(2026, 4, 10), "25")]
        + [("cat", f"c{n}", D(2026, 1 + n, 5), "40") for n in range(4)],
    )
    who = ids(api, "ana", "ben", "cat")
    day = at(api.services, D(2026, 5, 1))
    assert loyalty.apply_program(day, as_of=D(2026, 5, 1)) is not None
    now = day.clock.now()
    with day.uow.transaction() as session:
        found = contexts_for(session, list(who.values()), now)
        cards = {name: loyalty.card(session, cid, now=now) for name, cid in who.items()}
        progress = {name: found[cid]["loyalty"]["progress"] for name, cid in who.items()}
        batch = progress["ana"]._batch
        assert batch.found is None  # nothing worked out before a template reads it
        assert progress["ana"]["next_tier"] == "Gold"
        assert set(batch.found or {}) == set(who.values())  # the whole batch, at once
        assert all(p._batch is batch for p in progress.values())
        plain = {name: dict(p) for name, p in progress.items()}
    assert plain["ana"] == cards["ana"].progress
    assert plain["ana"] == {
        "next_tier": "Gold",
        "orders": 2,
        "spend": 440.0,
        "points": None,  # the programme has no points rule
        "before": D(2027, 3, 1),  # when the order of 1 March 2026 leaves the 365 days
        "words": "2 more orders or €440 to Gold before 1 March 2027",
    }
    assert plain["ben"] == cards["ben"].progress
    assert plain["ben"]["next_tier"] == "Silver"
    assert plain["ben"]["orders"] == 1
    assert plain["cat"] == {}  # Gold is the top tier: nothing to reach
    assert cards["cat"].progress is None
    assert not progress["cat"]  # reads as false in a template's {% if %}
