"""The worker's scheduled ``clv`` job: weekly by default, skipped and said so without the extra
or with too few repeat customers (SQLite, PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import pytest
from sqlalchemy import select

from lealta.clock import FrozenClock
from lealta.config import Settings
from lealta.contacts.tables import Contact
from lealta.jobs import schedules
from lealta.jobs.tables import Job
from lealta.jobs.worker import JobWorker
from lealta.prediction.schedule import (
    MIN_REPEAT_CUSTOMERS,
    CLVSchedule,
    repeat_customers,
    skip_reason,
)
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories import orders
from tests.integration.conftest import Api

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def shop(uow: UnitOfWork, repeat: int, *, same_day: int = 0) -> None:
    """``repeat`` customers who bought on two days, ``same_day`` who bought twice on one day."""
    with uow.transaction() as session:
        for n in range(repeat + same_day):
            contact = Contact(id=f"c{n:04d}")
            session.add(contact)
            session.flush()
            gap = dt.timedelta(days=3 if n < repeat else 0, hours=1)
            for k, placed in enumerate(
                (NOW - dt.timedelta(days=30), NOW - dt.timedelta(days=30) + gap)
            ):
                orders.order(session, contact.id, f"o{n}-{k}", at=placed, amount="20.00")


def test_repeat_customers_are_counted_by_distinct_days_up_to_a_cap(uow: UnitOfWork) -> None:
    shop(uow, 3, same_day=2)
    with uow.transaction() as session:
        assert repeat_customers(session, at_most=10) == 3  # two orders on one day: one purchase
        assert repeat_customers(session, at_most=2) == 2
        reason = skip_reason(session)
        assert "3 customers bought on two different days" in reason
        assert f"at least {MIN_REPEAT_CUSTOMERS}" in reason
        assert "pip install 'lealta[clv]'" in skip_reason(session, library="lealta_no_such_lib")


def test_weekly_is_due_at_once_then_seven_days_after_the_last_job(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        assert schedules.due(session, "clv", "weekly", NOW)
        assert not schedules.due(session, "clv", "off", NOW)
        assert not schedules.due(session, "clv", "after_rfm", NOW)  # no RFM job yet
        session.add(Job(id="j1", kind="clv", params={}, status="done", progress=1.0, step="",
                        requested_by="x", created_at=NOW))  # fmt: skip
    with uow.transaction() as session:
        assert not schedules.due(session, "clv", "weekly", NOW + dt.timedelta(days=6, hours=23))
        assert schedules.due(session, "clv", "weekly", NOW + dt.timedelta(days=7))
        assert schedules.due(session, "clv", "daily", NOW + dt.timedelta(days=1))


def test_the_worker_queues_the_job_once_enough_customers_came_back(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    assert Settings(_env_file=None).clv_schedule == "weekly"
    services = dataclasses.replace(api.services, clock=FrozenClock(NOW))
    worker = JobWorker(services, poll=0.05)
    assert isinstance(worker.clv, CLVSchedule)
    shop(api.services.uow, MIN_REPEAT_CUSTOMERS - 1)
    with caplog.at_level(logging.WARNING, logger="lealta.jobs.schedules"):
        assert not worker.clv.run_if_due()
    assert [r.getMessage() for r in caplog.records] == [
        f"not queueing the scheduled clv job: {MIN_REPEAT_CUSTOMERS - 1} customers bought on two "
        f"different days; the models need at least {MIN_REPEAT_CUSTOMERS} to learn from "
        "(lealta clv --from-store runs anyway)"
    ]
    with api.services.uow.transaction() as session:
        session.add(Contact(id="late"))
        session.flush()
        for k, days in enumerate((20, 10)):
            orders.order(session, "late", f"late-{k}", at=NOW - dt.timedelta(days=days), amount="5")
    fresh = CLVSchedule(services)  # a worker started now (the old one waits an hour)
    assert fresh.run_if_due()
    assert not fresh.run_if_due()  # looks again a minute later at the soonest
    with api.services.uow.transaction() as session:
        queued = list(session.scalars(select(Job).where(Job.kind == "clv")))
    assert [(j.status, j.requested_by) for j in queued] == [("queued", "lealta worker")]
    off = dataclasses.replace(
        services, settings=services.settings.model_copy(update={"clv_schedule": "off"})
    )
    assert not CLVSchedule(off).run_if_due()
