"""A job as the console shows it: percentage, words, and when to say no worker is running."""

from __future__ import annotations

import datetime as dt

from lealta.console.jobs_page import job_view
from lealta.jobs.tables import Job

ASKED = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)


def _job(**values: object) -> Job:
    base: dict[str, object] = {
        "id": "j1", "kind": "rfm", "params": {}, "status": "queued", "progress": 0.0,
        "step": "Waiting to start", "requested_by": "ana@example.com", "created_at": ASKED,
    }  # fmt: skip
    return Job(**{**base, **values})


def test_a_queued_job_says_no_worker_is_running_after_ten_seconds() -> None:
    assert not job_view(_job(), ASKED + dt.timedelta(seconds=9))["waiting_for_worker"]
    assert job_view(_job(), ASKED + dt.timedelta(seconds=10))["waiting_for_worker"]
    running = _job(status="running", progress=0.426, step="Scoring customers")
    view = job_view(running, ASKED + dt.timedelta(minutes=5))
    assert (view["active"], view["percent"], view["waiting_for_worker"]) == (True, 43, False)


def test_a_done_job_counts_its_customers_and_segments() -> None:
    result = {
        "customers": 1234,
        "segments": [
            {"segment": "Champions", "customers": 1000},
            {"segment": "Hibernating", "customers": 234},
        ],
    }
    view = job_view(
        _job(status="done", progress=1.0, result=result, created_at=ASKED.replace(tzinfo=None)),
        ASKED,
    )
    assert (view["done"], view["active"], view["customers"], view["segments"]) == (
        True,
        False,
        1234,
        2,
    )
    assert view["created_at"] == ASKED  # SQLite's naive times are read as UTC
