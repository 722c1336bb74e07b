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


def test_each_kind_of_job_is_named_with_its_outcome_in_words_and_where_to_look() -> None:
    done = {"status": "done", "progress": 1.0}
    rfm = job_view(_job(**done, result={"customers": 1234, "segments": [{}, {}]}), ASKED)
    assert (rfm["title"], rfm["outcome"], rfm["link"]) == (
        "RFM recomputation",
        "1,234 customers, 2 segments",
        "/segments",
    )
    review = {"customers": 751, "upgraded": 40, "downgraded": 3, "at_risk": 12}
    asked = job_view(_job(kind="loyalty_tiers", **done, result=review), ASKED)
    assert (asked["title"], asked["outcome"], asked["link"]) == (
        "Loyalty tier review",
        "751 customers in a tier; 40 up, 3 down, 12 at risk",
        "/loyalty",
    )
    daily = job_view(
        _job(kind="loyalty_review", params={"scope": "all"}, **done, result=review), ASKED
    )
    assert daily["title"] == "Daily loyalty review"
    assert daily["outcome"] == asked["outcome"]
    orders = job_view(
        _job(
            kind="loyalty_review",
            params={"scope": "new orders"},
            **done,
            result={"contacts": 5, "upgraded": 2},
        ),
        ASKED,
    )
    assert (orders["title"], orders["outcome"]) == (
        "Loyalty review of new orders",
        "5 customers with new orders reviewed, 2 up",
    )
    other = job_view(_job(kind="some_export", **done, result={}), ASKED)
    assert (other["title"], other["outcome"], other["link"]) == ("Some export", "", "")
