"""A ``clv`` job as the console's jobs page names it."""

from __future__ import annotations

import datetime as dt

from lealta.console.jobs_page import job_view
from lealta.jobs.tables import Job

ASKED = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)


def test_a_clv_job_says_how_many_were_scored_and_fell_below_the_alert() -> None:
    job = Job(
        id="j1", kind="clv", params={"horizon_days": 30}, status="done", progress=1.0,
        step="Done", requested_by="api key k1", created_at=ASKED,
        result={"customers": 2357, "churn_risk_rose": 41, "bands": {"low": 2000}},
    )  # fmt: skip
    view = job_view(job, ASKED)
    assert (view["title"], view["outcome"]) == (
        "Predicted value",
        "2,357 customers scored, 41 fell below the churn alert",
    )
