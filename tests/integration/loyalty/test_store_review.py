"""Tier reviews from the store: after RFM from the store, status rules across a year, events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from lealta.events.tables import Event
from lealta.loyalty import reports, schedule, service
from lealta.loyalty.tables import ContactTier, TierChange
from lealta.segmentation import store
from lealta.segmentation.store import rfm_from_store
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import PROGRAM, at, ids, post_orders, tiers

D = dt.date


def save_program(api: Api, text: str = PROGRAM) -> None:
    with api.services.uow.transaction() as session:
        service.save(session, text, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


def test_rfm_from_the_store_assigns_the_programme_in_force(api: Api) -> None:
    post_orders(
        api,
        [
            ("ana", "a1", D(2026, 1, 10), "100"),
            ("ana", "a2", D(2026, 2, 10), "450"),
            ("ben", "b1", D(2026, 1, 5), "20"),
            ("ben", "b2", D(2026, 2, 5), "20"),
            ("cruz", "c1", D(2026, 2, 20), "30"),
        ],
    )
    save_program(api)
    who = ids(api, "ana", "ben", "cruz")
    frame = rfm_from_store(at(api.services, D(2026, 3, 1)), as_of="2026-03-01")
    review = frame.attrs["lealta"]["loyalty"]
    assert review.tiers == {"Member": 1, "Silver": 1, "Gold": 1}
    found = tiers(api)
    assert {c: found[i].tier for c, i in who.items()} == {
        "ana": "Gold",
        "ben": "Silver",
        "cruz": "Member",
    }
    ana = found[who["ana"]]
    assert (ana.since, ana.until) == (D(2026, 3, 1), D(2027, 12, 31))
    assert ana.qualified_by == "at least €500 spent in 365 days"
    assert ana.score_sum is not None
    assert 3 <= ana.score_sum <= 15


def test_the_review_after_rfm_reads_the_orders_the_rfm_run_exported(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_orders(api, [("ana", "a1", D(2026, 1, 10), "100"), ("ana", "a2", D(2026, 2, 1), "9")])
    save_program(api)
    exported: list[Path] = []
    export = store.export_orders

    def counted(session: Any, path: Path, **options: Any) -> int:
        exported.append(path)
        return export(session, path, **options)

    monkeypatch.setattr(store, "export_orders", counted)
    rfm_from_store(at(api.services, D(2026, 3, 1)), as_of="2026-03-01")
    assert len(exported) == 1
    assert [t.tier for t in tiers(api).values()] == ["Silver"]


def test_without_a_programme_rfm_from_the_store_assigns_nothing(api: Api) -> None:
    post_orders(api, [("ana", "a1", D(2026, 1, 10), "100")])
    frame = rfm_from_store(api.services, as_of="2026-03-01")
    assert frame.attrs["lealta"]["loyalty"] is None
    assert tiers(api) == {}
    assert service.apply_program(api.services) is None


def test_a_tier_is_kept_until_its_end_then_falls_one_step_after_the_grace(api: Api) -> None:
    post_orders(api, [("ana", f"a{n}", D(2026, 1, 1 + n), "200") for n in range(4)])
    save_program(api)
    (ana,) = ids(api, "ana").values()

    def review_on(day: D) -> str | None:
        service.apply_program(at(api.services, day), as_of=day)
        row = tiers(api).get(ana)
        return row.tier if row else None

    assert review_on(D(2026, 2, 1)) == "Gold"
    # a year later the orders are out of the 365-day window: she qualifies for Member only,
    # but Gold reached in 2026 is kept to the end of 2027, then 30 days' grace
    assert review_on(D(2027, 3, 1)) == "Gold"
    row = tiers(api)[ana]
    assert row.falling_since == D(2027, 3, 1)
    assert row.qualified_by == "kept until 2027-12-31"
    assert review_on(D(2027, 12, 31)) == "Gold"
    assert review_on(D(2028, 1, 15)) == "Gold"
    assert tiers(api)[ana].qualified_by == "in grace until 2028-01-30"
    # one step down per review, and the lower tier is kept like a tier reached
    assert review_on(D(2028, 1, 31)) == "Silver"
    row = tiers(api)[ana]
    assert (row.since, row.until, row.falling_since) == (D(2028, 1, 31), D(2029, 12, 31), None)
    assert review_on(D(2028, 6, 1)) == "Silver"
    with api.services.uow.transaction() as session:
        moves = [
            (c.from_tier, c.to_tier, c.changed_at.date())
            for c in session.scalars(select(TierChange).order_by(TierChange.id))
        ]
        events = [
            (e.name, e.properties.get("from", e.properties.get("tier")), e.properties.get("to"))
            for e in session.scalars(
                select(Event).where(Event.contact_id == ana, Event.name.like("Loyalty%"))
                .order_by(Event.occurred_at)
            )
        ]  # fmt: skip
    assert moves == [(None, "Gold", D(2026, 2, 1)), ("Gold", "Silver", D(2028, 1, 31))]
    assert events == [
        ("Loyalty Tier Upgraded", None, "Gold"),
        ("Loyalty Tier At Risk", "Gold", None),  # when the fall started, once
        ("Loyalty Tier Downgraded", "Gold", "Silver"),
        ("Loyalty Tier At Risk", "Silver", None),  # Silver's own fall, on 1 June
    ]


def test_qualifying_again_renews_the_tier_and_ends_the_fall(api: Api) -> None:
    post_orders(api, [("ben", "b1", D(2026, 1, 5), "20"), ("ben", "b2", D(2026, 1, 6), "20")])
    save_program(api, PROGRAM.replace("keep_until: end_of_next_year", "keep_days: 90"))
    (ben,) = ids(api, "ben").values()
    service.apply_program(at(api.services, D(2026, 2, 1)), as_of=D(2026, 2, 1))
    assert tiers(api)[ben].until == D(2026, 5, 1)
    service.apply_program(at(api.services, D(2027, 2, 1)), as_of=D(2027, 2, 1))
    assert tiers(api)[ben].falling_since == D(2027, 2, 1)
    post_orders(api, [("ben", "b3", D(2027, 2, 2), "20"), ("ben", "b4", D(2027, 2, 3), "20")])
    service.apply_program(at(api.services, D(2027, 2, 10)), as_of=D(2027, 2, 10))
    row = tiers(api)[ben]
    assert (row.tier, row.falling_since, row.until) == ("Silver", None, D(2027, 5, 10))


def test_a_review_writes_only_the_tier_rows_that_change(api: Api) -> None:
    post_orders(
        api,
        [
            ("ana", "a1", D(2026, 1, 10), "20"),
            ("ben", "b1", D(2026, 1, 5), "20"),
            ("ben", "b2", D(2026, 1, 6), "20"),
        ],
    )
    save_program(api)
    who = ids(api, "ana", "ben")

    def review_on(day: D) -> dict[str, tuple[str, D]]:
        service.apply_program(at(api.services, day), as_of=day)
        found = tiers(api)
        return {c: (found[i].tier, found[i].computed_at.date()) for c, i in who.items()}

    assert review_on(D(2026, 2, 1)) == {
        "ana": ("Member", D(2026, 2, 1)),
        "ben": ("Silver", D(2026, 2, 1)),
    }
    # the worker's daily review changes nothing, so writes nothing (computed_at is when a
    # review last wrote the row); the review's time is still known, from its mark
    noon = dt.datetime(2026, 2, 2, 12, tzinfo=dt.UTC)
    assert schedule.review_all_if_due(api.services, hour=3, now=noon) is not None
    found = tiers(api)
    assert {found[i].computed_at.date() for i in who.values()} == {D(2026, 2, 1)}
    with api.services.uow.transaction() as session:
        assert reports.last_review(session) == noon
    post_orders(api, [("ana", "a2", D(2026, 2, 2), "20")])
    assert review_on(D(2026, 2, 3)) == {
        "ana": ("Silver", D(2026, 2, 3)),
        "ben": ("Silver", D(2026, 2, 1)),
    }
    # a review run directly (as `lealta loyalty apply` or after an RFM run: no job, no mark)
    # that changes nothing is still the last review
    assert review_on(D(2026, 2, 4)) == {
        "ana": ("Silver", D(2026, 2, 3)),
        "ben": ("Silver", D(2026, 2, 1)),
    }
    with api.services.uow.transaction() as session:
        assert reports.last_review(session) == dt.datetime(2026, 2, 4, 12, tzinfo=dt.UTC)


def test_moves_recorded_again_at_the_same_moment_write_no_second_event(api: Api) -> None:
    post_orders(api, [("ana", "a1", D(2026, 1, 10), "20")])
    save_program(api)
    (ana,) = ids(api, "ana").values()
    moment = at(api.services, D(2026, 2, 1))
    service.apply_program(moment, as_of=D(2026, 2, 1))
    with api.services.uow.transaction() as session:
        session.execute(delete(ContactTier))  # the same move again, at the same moment
    service.apply_program(moment, as_of=D(2026, 2, 1))
    with api.services.uow.transaction() as session:
        moves = session.scalars(select(TierChange.to_tier).where(TierChange.contact_id == ana))
        events = session.scalars(
            select(Event.name).where(Event.contact_id == ana, Event.name.like("Loyalty%"))
        )
        assert (list(moves), list(events)) == (["Member", "Member"], ["Loyalty Tier Upgraded"])
