"""The worker's loyalty passes: a daily review of everyone, partial reviews as orders arrive."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from lealta.bootstrap import Services
from lealta.clock import FrozenClock
from lealta.events.tables import Event
from lealta.jobs.tables import Job
from lealta.jobs.worker import JobWorker
from lealta.loyalty import service
from lealta.loyalty.schedule import (
    FULL_MARK,
    ORDERS_MARK,
    LoyaltySchedule,
    review_all_if_due,
    review_new_orders,
)
from lealta.storage.retry import in_transaction
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import PROGRAM, ids, post_orders, tiers

D = dt.date


def at(services: Services, moment: dt.datetime, **settings: object) -> Services:
    updated = services.settings.model_copy(update=settings)
    return dataclasses.replace(services, clock=FrozenClock(moment), settings=updated)


def moment(day: D, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def new_orders(services: Services, day: D) -> object:
    now = moment(day, 12)
    return in_transaction(services.uow, lambda s: review_new_orders(s, now=now))


def loyalty_events(api: Api) -> list[tuple[str, str, str | None]]:
    with api.services.uow.transaction() as session:
        return [
            (e.contact_id, e.name, e.properties.get("to"))
            for e in session.scalars(
                select(Event).where(Event.name.like("Loyalty%")).order_by(Event.id)
            )
        ]


def setup(api: Api) -> dict[str, str]:
    """Ana Member, Ben Silver, Cruz Gold on orders a year old: the daily review of 1 March."""
    post_orders(
        api,
        [
            ("ana", "a1", D(2026, 2, 1), "40"),
            ("ben", "b1", D(2026, 2, 1), "40"),
            ("ben", "b2", D(2026, 2, 2), "40"),
            *[("cruz", f"c{n}", D(2025, 3, 10 + n), "40") for n in range(4)],
        ],
    )
    with api.services.uow.transaction() as session:
        service.save(session, PROGRAM, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    services = at(api.services, moment(D(2026, 3, 1), 2))
    assert review_all_if_due(services, hour=3, now=moment(D(2026, 3, 1), 2)) is None  # not yet
    assert new_orders(api.services, D(2026, 3, 1)) is None  # no daily review yet: no start
    review = review_all_if_due(services, hour=3, now=moment(D(2026, 3, 1), 4))
    assert review is not None
    assert review.tiers == {"Member": 1, "Silver": 1, "Gold": 1}
    # once a day, whichever worker asks
    assert review_all_if_due(services, hour=3, now=moment(D(2026, 3, 1), 9)) is None
    return ids(api, "ana", "ben", "cruz")


def test_orders_arriving_move_their_customers_up_and_touch_nobody_else(api: Api) -> None:
    who = setup(api)
    before = tiers(api)
    assert new_orders(api.services, D(2026, 3, 2)) is None  # no order since the review
    # Ana's second order makes her Silver; Cruz orders too, but his year-old orders have left
    # the window: a full review would start his fall, a partial one must not.
    post_orders(api, [("ana", "a2", D(2026, 3, 20), "40"), ("cruz", "c9", D(2026, 3, 20), "9")])
    done = new_orders(api.services, D(2026, 3, 20))
    assert done is not None
    # the new orders' customers, and those of the last few hundred orders again (orders
    # committed late): Ben is looked at again but only renewed as he was
    assert (done.contacts, done.upgraded) == (3, 1)
    after = tiers(api)
    ana = after[who["ana"]]
    assert (ana.tier, ana.since, ana.until) == ("Silver", D(2026, 3, 20), D(2027, 12, 31))
    for name in ("ben", "cruz"):
        old, new = before[who[name]], after[who[name]]
        assert (new.tier, new.since, new.until, new.falling_since) == (
            old.tier,
            old.since,
            old.until,
            None,
        )
    # the same pass again finds nothing new: no second event
    assert new_orders(api.services, D(2026, 3, 20)) is None
    ups = [e for e in loyalty_events(api) if e[0] == who["ana"]]
    assert ups == [
        (who["ana"], "Loyalty Tier Upgraded", "Member"),
        (who["ana"], "Loyalty Tier Upgraded", "Silver"),
    ]
    assert [e for e in loyalty_events(api) if e[0] == who["cruz"]] == [
        (who["cruz"], "Loyalty Tier Upgraded", "Gold")
    ]
    with api.services.uow.transaction() as session:
        marks = {
            j.id: j.result for j in session.scalars(select(Job).where(Job.kind == "loyalty_review"))
        }
    assert set(marks) == {FULL_MARK, ORDERS_MARK}
    assert marks[ORDERS_MARK]["upgraded"] == 1
    assert marks[FULL_MARK]["day"] == "2026-03-01"
    # the next daily review does what the partial one may not: Cruz starts falling
    review_all_if_due(api.services, hour=3, now=moment(D(2026, 3, 21), 3))
    assert tiers(api)[who["cruz"]].falling_since == D(2026, 3, 21)


def test_the_worker_runs_the_passes_on_its_schedule(api: Api) -> None:
    who = setup(api)
    post_orders(api, [("ana", "a2", D(2026, 3, 5), "40")])
    services = at(api.services, moment(D(2026, 3, 5), 12), loyalty_orders_every=60.0)
    worker = JobWorker(services, poll=0.05)
    assert isinstance(worker.loyalty, LoyaltySchedule)
    worker.loyalty.run_if_due()  # what the worker's loop calls after its jobs
    assert tiers(api)[who["ana"]].tier == "Silver"
    off = at(
        api.services, moment(D(2026, 3, 6), 12), loyalty_orders_every=0, loyalty_review_hour=-1
    )
    post_orders(api, [("ben", "b3", D(2026, 3, 6), "40"), ("ben", "b4", D(2026, 3, 6), "40")])
    LoyaltySchedule(off).run_if_due()
    assert tiers(api)[who["ben"]].tier == "Silver"  # both passes off: nothing ran


# several workers share a PostgreSQL store; SQLite's writers queue anyway
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_passing_at_once_review_the_new_orders_once(api: Api) -> None:
    who = setup(api)
    post_orders(api, [("ana", "a2", D(2026, 3, 20), "40")])
    results: list[object] = []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        results.append(new_orders(api.services, D(2026, 3, 20)))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(r is None for r in results) == [False, True]
    with api.services.uow.transaction() as session:
        count = session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.contact_id == who["ana"], Event.name == "Loyalty Tier Upgraded")
        )
    assert count == 2  # Member at the daily review, Silver once


def test_a_year_of_passes_puts_a_customer_at_risk_once_per_fall(api: Api) -> None:
    post_orders(api, [("ben", "b1", D(2026, 1, 5), "20"), ("ben", "b2", D(2026, 1, 6), "20")])
    with api.services.uow.transaction() as session:
        program = PROGRAM.replace("keep_until: end_of_next_year", "keep_days: 30")
        service.save(session, program, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    (ben,) = ids(api, "ben").values()

    def daily(day: D) -> None:
        assert review_all_if_due(api.services, hour=3, now=moment(day, 4)) is not None

    daily(D(2026, 2, 1))
    assert (tiers(api)[ben].tier, tiers(api)[ben].until) == ("Silver", D(2026, 3, 2))
    daily(D(2027, 1, 20))  # his orders left the 365-day window: the fall starts
    daily(D(2027, 1, 25))  # still falling: no second warning
    post_orders(api, [("ben", "b3", D(2027, 1, 26), "20")])
    new_orders(api.services, D(2027, 1, 26))  # one order is not enough: left as he was
    assert tiers(api)[ben].falling_since == D(2027, 1, 20)
    post_orders(api, [("ben", "b4", D(2027, 1, 27), "20")])
    new_orders(api.services, D(2027, 1, 27))  # two: Silver renewed, the fall is over
    row = tiers(api)[ben]
    assert (row.tier, row.falling_since, row.until) == ("Silver", None, D(2027, 2, 25))
    daily(D(2028, 2, 1))  # a year on: a new fall, a new warning
    daily(D(2028, 3, 1))
    assert tiers(api)[ben].tier == "Silver"  # 30 days' grace from 1 February
    daily(D(2028, 3, 2))
    assert tiers(api)[ben].tier == "Member"
    with api.services.uow.transaction() as session:
        seen = [
            (e.name, e.occurred_at.date(), e.properties.get("drops_on"), e.properties.get("keep"))
            for e in session.scalars(
                select(Event)
                .where(Event.contact_id == ben, Event.name.like("Loyalty%"))
                .order_by(Event.occurred_at, Event.id)
            )
        ]
    assert seen == [
        ("Loyalty Tier Upgraded", D(2026, 2, 1), None, None),
        ("Loyalty Tier At Risk", D(2027, 1, 20), "2027-02-19", "2 more orders keeps you Silver"),
        ("Loyalty Tier At Risk", D(2028, 2, 1), "2028-03-02", "2 more orders keeps you Silver"),
        ("Loyalty Tier Downgraded", D(2028, 3, 2), None, None),
    ]
