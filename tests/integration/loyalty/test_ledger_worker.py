"""The worker credits points by itself: its jobs thread runs the points sweep (SQLite and
PostgreSQL), at most every five minutes, and a failing sweep does not stop it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

import pytest

from lealta.jobs.worker import JobWorker
from lealta.loyalty.points_sweeps import PointsSchedule
from lealta.storage.engine import make_engine
from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import ids
from tests.integration.loyalty.points_helpers import START, entries, order, with_points


def test_the_jobs_thread_credits_new_orders_without_being_asked(api: Api) -> None:
    with_points(api)
    order(api, "ana", "a-1", START - dt.timedelta(days=1), "75")
    cid = ids(api, "ana")["ana"]
    worker = JobWorker(api.services, poll=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while not entries(api, cid) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
    assert [(e.kind, e.points, e.actor) for e in entries(api, cid)] == [("earn", 75, "worker")]


def test_the_schedule_waits_its_interval_and_survives_a_failing_sweep(
    api: Api, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    with_points(api)
    order(api, "ben", "b-1", START - dt.timedelta(days=1), "20")
    schedule = PointsSchedule(api.services, every=3600)
    first = schedule.run_if_due()
    assert first is not None
    assert first.orders == 1
    order(api, "ben", "b-2", START, "30")
    assert schedule.run_if_due() is None  # not due again for an hour
    assert len(entries(api, ids(api, "ben")["ben"])) == 1

    nowhere = UnitOfWork(make_engine(f"sqlite:///{tmp_path}/no/such/folder/store.db"))
    broken = dataclasses.replace(api.services, uow=nowhere)  # every sweep now fails
    failing = PointsSchedule(broken, every=0)
    assert failing.run_if_due() is None
    assert "the loyalty points sweep failed" in caplog.text
