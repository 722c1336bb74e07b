"""Events the loyalty code records itself (a review's tier changes, the points sweep's credits)
wake the runs that wait for them, as a tracked event does: a ``wait_for_event`` run goes on the
same day instead of at its timeout (SQLite and PostgreSQL, real runner, frozen clock)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from lealta.automations import service
from lealta.automations.recording import wake
from lealta.automations.runner import advance_all
from lealta.automations.sweeps import enroll_many
from lealta.automations.tables import Run, RunStep
from lealta.automations.triggers import Live
from lealta.contacts.tables import Contact
from lealta.loyalty import service as loyalty
from lealta.loyalty.points_sweeps import sweep
from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import PROGRAM, at, ids, post_orders

D = dt.date
POINTS = """
points:
  per_unit: 1
  expire_after_days: 365
  warn_days: 30
  point_value: 0.01
"""


def _waiting_for(api: Api, event: str, contact_id: str, day: dt.date) -> str:
    """A workflow whose runs wait 60 days for ``event``, with the contact's run begun on
    ``day`` (waiting); the run's id."""
    text = f"""
id: waits
name: Waits for {event}
trigger: {{type: manual}}
steps:
  - {{id: wait, type: wait_for_event, event: {event}, timeout: 60d, on_event: came,
      on_timeout: late}}
  - {{id: came, type: exit, reason: came}}
  - {{id: late, type: exit, reason: late}}
"""
    services = at(api.services, day)
    now = services.clock.now()
    with services.uow.transaction() as session:
        service.save(session, text, now=now)
        service.set_status(session, "waits", "active", now=now)
        workflow = service.get(session, "waits")
        run = service.enroll(
            session,
            workflow,
            service.definition(session, "waits"),
            contact_id,
            entry_key="by-hand",
            now=now,
        )
    assert run is not None
    advance_all(services)
    assert _run(api, run) == ("waiting", None, [])
    return run


def _run(api: Api, run_id: str) -> tuple[str, str | None, list[str]]:
    """The run's status, exit reason and the outcomes logged at its ``wait`` step after it
    began waiting."""
    with api.services.uow.transaction() as session:
        run = session.get(Run, run_id)
        assert run is not None
        logged = list(
            session.scalars(
                select(RunStep.outcome)
                .where(RunStep.run_id == run_id, RunStep.step_id == "wait")
                .order_by(RunStep.id)
            )
        )
        return run.status, run.exit_reason, [o for o in logged if o not in ("entered", "waiting")]


def test_a_tier_upgrade_wakes_the_run_waiting_for_it_the_day_of_the_review(api: Api) -> None:
    answer = api.client.put(
        "/v1/loyalty/program",
        content=PROGRAM,
        headers=api.admin | {"Content-Type": "application/yaml"},
    )
    assert answer.status_code == 200, answer.text
    post_orders(api, [("ana", "a1", D(2026, 3, 1), "30"), ("ana", "a2", D(2026, 4, 1), "30")])
    ana = ids(api, "ana")["ana"]
    run = _waiting_for(api, "Loyalty Tier Upgraded", ana, D(2026, 4, 20))
    review_day = at(api.services, D(2026, 5, 1))
    done = loyalty.apply_program(review_day, as_of=D(2026, 5, 1))
    assert done is not None
    assert done.upgraded == 1
    advance_all(review_day)  # the same day: not 60 days later
    assert _run(api, run) == ("done", "came", ["event"])


def test_points_credited_by_the_sweep_wake_the_run_waiting_for_them(api: Api) -> None:
    answer = api.client.put(
        "/v1/loyalty/program",
        content=PROGRAM + POINTS,
        headers=api.admin | {"Content-Type": "application/yaml"},
    )
    assert answer.status_code == 200, answer.text
    post_orders(api, [("ben", "b1", D(2026, 3, 1), "80")])
    ben = ids(api, "ben")["ben"]
    run = _waiting_for(api, "Loyalty Points Earned", ben, D(2026, 2, 20))
    credited = at(api.services, D(2026, 3, 2))
    assert sweep(credited, now=credited.clock.now()).earned == 80
    advance_all(credited)
    assert _run(api, run) == ("done", "came", ["event"])
    again = at(api.services, D(2026, 3, 3))
    assert sweep(again, now=again.clock.now()).earned == 0  # a replay wakes nothing new
    advance_all(again)
    assert _run(api, run) == ("done", "came", ["event"])


@pytest.mark.parametrize("contacts", [40, 6_000])
def test_waking_many_contacts_makes_only_their_later_waiting_runs_due(
    uow: UnitOfWork, contacts: int
) -> None:
    """Few contacts are woken by contact, many (beyond 5,000) by reading the waiting runs
    once: the same runs either way, and none of the others."""
    now = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
    text = """
id: pause
name: Pause
trigger: {type: manual}
steps:
  - {id: pause, type: wait, duration: 30d}
"""
    with uow.transaction() as session:
        service.save(session, text, now=now)
        service.set_status(session, "pause", "active", now=now)
        rows = [
            {"id": f"c{i:05d}", "attributes": {}, "created_at": now, "updated_at": now}
            for i in range(contacts + 10)
        ]
        session.execute(Contact.__table__.insert(), rows)  # type: ignore[attr-defined]
        ids = [r["id"] for r in rows]
        live = Live(service.get(session, "pause"), service.definition(session, "pause"))
        assert enroll_many(session, live, ids, entry_key="a", now=now) == len(ids)
        session.execute(update(Run).where(Run.contact_id == ids[1]).values(status="done"))
    later = now + dt.timedelta(days=1)
    with uow.transaction() as session:
        woken = wake(session, [*ids[:contacts], "no-such-contact"], now=later)
    assert woken == contacts - 1  # ids[1]'s run is over
    with uow.transaction() as session:
        due = dict(session.execute(select(Run.contact_id, Run.wake_at)).all())
    aware = {cid: (w.replace(tzinfo=dt.UTC) if w.tzinfo is None else w) for cid, w in due.items()}
    assert {cid for cid, w in aware.items() if w == later} == set(ids[:contacts]) - {ids[1]}
    assert all(aware[cid] == now + dt.timedelta(days=30) for cid in ids[contacts:])
    with uow.transaction() as session:  # woken already: nothing to do again
        assert wake(session, ids[:contacts], now=later) == 0
