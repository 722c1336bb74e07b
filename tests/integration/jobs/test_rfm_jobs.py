"""RFM recomputation as a background job, end to end on SQLite and PostgreSQL: asked for over
REST or in the console, run by the worker, its progress stored step by step."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lealta.jobs import runner, service
from lealta.segmentation.tables import ContactRfm
from lealta.storage.base import utcnow
from lealta.tracking.worker import Processor
from lealta.users.service import create_user, list_audit
from tests.integration.conftest import Api
from tests.integration.orders.test_rfm_from_store import ORDERS, post_orders

PASSWORD = "correct horse battery"


def _sign_in(api: Api, email: str, role: str) -> str:
    """Sign ``email`` in with ``role``; returns the session's CSRF token (from the jobs page)."""
    with api.services.uow.transaction() as session:
        create_user(session, email=email, role=role, password=PASSWORD, now=utcnow())
    form = api.client.get("/signin").text
    token = re.search(r'name="token" value="([^"]+)"', form)
    assert token
    answer = api.client.post(
        "/signin",
        data={"email": email, "password": PASSWORD, "token": token[1], "next": "/jobs"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    page = api.client.get("/jobs")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    return csrf[1]


def _record_progress(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[Any]]:
    """Every progress call the work makes, and every progress write stored."""
    calls: list[tuple[float, str]] = []
    stored: list[tuple[float, str]] = []
    hear = runner.Reporter.__call__
    write = service.report_progress

    def heard(self: runner.Reporter, fraction: float, step: str) -> None:
        calls.append((fraction, step))
        hear(self, fraction, step)

    def wrote(*args: Any, **kwargs: Any) -> bool:
        stored.append((kwargs["fraction"], kwargs["step"]))
        return write(*args, **kwargs)

    monkeypatch.setattr(runner.Reporter, "__call__", heard)
    monkeypatch.setattr(service, "report_progress", wrote)
    return calls, stored


def test_an_rfm_job_asked_over_rest_runs_with_real_progress(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_orders(api)
    calls, stored = _record_progress(monkeypatch)
    asked = api.client.post("/v1/segmentation/rfm/jobs", json={}, headers=api.admin)
    assert asked.status_code == 202, asked.text
    job = asked.json()
    assert (job["status"], job["kind"], job["progress"]) == ("queued", "rfm", 0)
    assert job["requested_by"].startswith("api key ")
    assert asked.headers["Location"].endswith(f"/v1/jobs/{job['id']}")
    again = api.client.post("/v1/segmentation/rfm/jobs", headers=api.admin)
    assert again.status_code == 200
    assert again.json()["id"] == job["id"]

    ran = runner.run_next(api.services)
    assert ran is not None
    assert ran.id == job["id"]

    done = api.client.get(f"/v1/jobs/{job['id']}", headers=api.admin).json()
    assert (done["status"], done["progress"], done["error"]) == ("done", 1, None)
    customers = len({name for name, *_ in ORDERS})
    assert done["result"]["customers"] == customers
    assert sum(s["customers"] for s in done["result"]["segments"]) == customers
    assert done["started_at"]
    assert done["finished_at"]
    assert done["heartbeat_at"]
    steps = [step for _fraction, step in calls]
    assert f"Reading {len(ORDERS)} orders" in steps
    assert "Scoring customers" in steps
    assert f"Saving {customers} customers" in steps
    fractions = [fraction for fraction, _step in calls]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert stored
    assert all(0 <= f <= 1 for f, _ in stored)
    with api.services.uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ContactRfm)) == customers

    listed = api.client.get("/v1/jobs?kind=rfm&limit=5", headers=api.admin).json()["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]


def test_a_failing_job_is_stored_as_failed_with_its_error(api: Api) -> None:
    asked = api.client.post("/v1/segmentation/rfm/jobs", headers=api.admin).json()
    assert runner.run_next(api.services) is not None  # no orders yet: the work refuses
    failed = api.client.get(f"/v1/jobs/{asked['id']}", headers=api.admin).json()
    assert failed["status"] == "failed"
    assert "there are no orders in the store yet" in failed["error"]

    def broken(*_args: Any) -> dict[str, Any]:
        raise RuntimeError("disk full")

    second = api.client.post("/v1/segmentation/rfm/jobs", headers=api.admin).json()
    assert second["id"] != asked["id"]
    assert runner.run_next(api.services, kinds={"rfm": broken}) is not None
    crashed = api.client.get(f"/v1/jobs/{second['id']}", headers=api.admin).json()
    assert crashed["status"] == "failed"
    assert "disk full" in crashed["error"]


def test_the_worker_runs_queued_jobs_and_survives_a_failure(api: Api) -> None:
    processor = Processor(api.services, poll=0.05)
    processor.start()
    try:
        failing = api.client.post("/v1/segmentation/rfm/jobs", headers=api.admin).json()
        _wait_for(api, failing["id"], "failed")
        post_orders(api)
        # the worker's own loop may hold the orders' batch mid-commit while `drain` found
        # nothing left to take: wait until it has applied them
        processor.notify()
        assert processor.wait_idle()
        working = api.client.post(
            "/v1/segmentation/rfm/jobs", json={"clusters": 2}, headers=api.admin
        )
        assert working.status_code == 202
        done = _wait_for(api, working.json()["id"], "done")
        assert done["params"] == {"clusters": 2}
        assert done["result"]["clusters"] == 2
    finally:
        processor.stop()


def test_bad_job_options_are_refused_naming_the_field(api: Api) -> None:
    answer = api.client.post("/v1/segmentation/rfm/jobs", json={"clusters": 1}, headers=api.admin)
    assert answer.status_code in (400, 422)
    assert "clusters" in answer.text
    assert api.client.get("/v1/jobs/nope", headers=api.admin).status_code == 404
    assert api.client.get("/v1/jobs?limit=0", headers=api.admin).status_code in (400, 422)
    assert api.client.post("/v1/segmentation/rfm/jobs").status_code == 401


def test_a_marketer_recomputes_in_the_console_and_follows_the_bar(api: Api) -> None:
    post_orders(api)
    csrf = _sign_in(api, "mia@example.com", "marketer")
    assert "Recompute now" in api.client.get("/jobs").text
    forged = api.client.post("/segments/recompute", data={"csrf": "forged"})
    assert forged.status_code == 403
    asked = api.client.post(
        "/segments/recompute", data={"csrf": csrf, "back": "/jobs"}, follow_redirects=False
    )
    assert asked.status_code == 303
    assert asked.headers["location"] == "/jobs"
    plain = api.client.post(
        "/segments/recompute", data={"csrf": csrf, "clusters": "auto"}, follow_redirects=False
    )
    assert plain.headers["location"] == "/segments"
    with api.services.uow.transaction() as session:
        jobs = service.list_(session, kind="rfm")
        assert len(jobs) == 1
        assert jobs[0].requested_by == "mia@example.com"
        entries = [e for e in list_audit(session) if e.action == "RFM recomputation requested"]
        assert len(entries) == 2
        assert entries[0].user_email == "mia@example.com"
    job_id = jobs[0].id
    assert jobs[0].params == {}  # the second ask found the first job under way

    waiting = api.client.get(f"/jobs/{job_id}")
    assert waiting.status_code == 200
    assert f'hx-get="/jobs/{job_id}"' in waiting.text
    assert 'hx-trigger="every 1s"' in waiting.text
    assert "<progress" in waiting.text
    assert "Waiting to start" in waiting.text

    runner.run_next(api.services)
    polled = api.client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
    assert polled.headers["HX-Refresh"] == "true"  # the page reloads with the new segments
    done = api.client.get(f"/jobs/{job_id}").text
    assert "hx-trigger" not in done  # stops polling
    assert "Done:</strong> 4 customers scored into" in done
    assert 'href="/segments">See the new segments' in done
    assert "Last computed" in api.client.get("/jobs").text
    assert api.client.get("/jobs/unknown").status_code == 404


def test_a_viewer_cannot_recompute(api: Api) -> None:
    csrf = _sign_in(api, "vic@example.com", "viewer")
    assert "Recompute now" not in api.client.get("/jobs").text
    refused = api.client.post("/segments/recompute", data={"csrf": csrf})
    assert refused.status_code == 403
    with api.services.uow.transaction() as session:
        assert service.latest(session, "rfm") is None


def test_signed_out_fragments_ask_to_sign_in(api: Api) -> None:
    client = TestClient(api.client.app)
    answer = client.get("/jobs/anything", headers={"HX-Request": "true"})
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"].startswith("/signin")


def _wait_for(api: Api, job_id: str, status: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = api.client.get(f"/v1/jobs/{job_id}", headers=api.admin).json()
        if job["status"] == status:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not become {status}: {job}")
