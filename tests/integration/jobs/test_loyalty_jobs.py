""" "Review tiers now" as a background job, on SQLite and PostgreSQL: an admin asks in the
console, the worker runs ``apply_program`` with its progress stored, the Loyalty page follows
the job and shows its outcome; asked twice it is one job; viewers and marketers are refused;
without a programme the job fails with words."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from lealta.jobs import runner, service
from lealta.loyalty import reports
from lealta.loyalty import service as loyalty
from lealta.loyalty.tables import ContactTier
from lealta.storage.base import utcnow
from lealta.users.service import create_user, list_audit
from tests.integration.conftest import Api

PASSWORD = "correct horse battery"
PROGRAM = """\
name: Job club
window_days: 365
tiers:
  - name: Member
  - name: Silver
    qualify: {orders: 2}
  - name: Gold
    qualify: {orders: 3}
"""
# customer -> days ago of their orders: ana Gold, ben Silver, cruz Member
ORDERS = {"ana": [3, 40, 90], "ben": [10, 200], "cruz": [30]}


def _sign_in(api: Api, email: str, role: str) -> str:
    """Sign ``email`` in with ``role``; the session's CSRF token (from the Loyalty page)."""
    with api.services.uow.transaction() as session:
        create_user(session, email=email, role=role, password=PASSWORD, now=utcnow())
    form = api.client.get("/signin").text
    token = re.search(r'name="token" value="([^"]+)"', form)
    assert token
    answer = api.client.post(
        "/signin",
        data={"email": email, "password": PASSWORD, "token": token[1], "next": "/loyalty"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    page = api.client.get("/loyalty")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    return csrf[1]


def _shop(api: Api, *, programme: bool = True) -> None:
    now = api.services.clock.now()
    batch = [
        {
            "user_id": who,
            "id": f"{who}-{n}",
            "placed_at": (now - dt.timedelta(days=days)).isoformat(),
            "amount": "50.00",
        }
        for who, ago in ORDERS.items()
        for n, days in enumerate(ago)
    ]
    answer = api.client.post("/v1/orders/batch", json={"orders": batch}, headers=api.admin)
    assert answer.json()["accepted"] == len(batch)
    api.drain()
    if programme:
        with api.services.uow.transaction() as session:
            loyalty.save(session, PROGRAM, now=now)


def _progress_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, str]]:
    calls: list[tuple[float, str]] = []
    hear = runner.Reporter.__call__

    def heard(self: runner.Reporter, fraction: float, step: str) -> None:
        calls.append((fraction, step))
        hear(self, fraction, step)

    monkeypatch.setattr(runner.Reporter, "__call__", heard)
    return calls


def test_an_admin_reviews_the_tiers_in_the_background(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shop(api)
    csrf = _sign_in(api, "ada@example.com", "admin")
    asked = api.client.post("/loyalty/review", data={"csrf": csrf}, follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == "/loyalty#review"
    again = api.client.post("/loyalty/review", data={"csrf": csrf}, follow_redirects=False)
    assert again.status_code == 303
    with api.services.uow.transaction() as session:
        jobs = service.list_(session, kind="loyalty_tiers")
        assert len(jobs) == 1  # the second ask found the first under way
        assert (jobs[0].status, jobs[0].requested_by) == ("queued", "ada@example.com")
        assert session.scalar(select(func.count()).select_from(ContactTier)) == 0  # not yet
        audited = [e for e in list_audit(session) if e.action == "loyalty tier review requested"]
        assert len(audited) == 2
    job_id = jobs[0].id

    waiting = api.client.get("/loyalty").text
    assert f'hx-get="/loyalty/review/{job_id}"' in waiting
    assert "Waiting to start" in waiting

    calls = _progress_calls(monkeypatch)
    ran = runner.run_next(api.services)
    assert ran is not None
    assert ran.id == job_id
    steps = [step for _fraction, step in calls]
    assert steps[0] == "Reading orders"
    assert "Reviewing 3 customers" in steps
    assert steps[-1] == "Reviewed 3 customers"
    assert [f for f, _ in calls] == sorted(f for f, _ in calls)

    with api.services.uow.transaction() as session:
        members = reports.members(session)
        job = service.get(session, job_id)
    assert members == {"Gold": 1, "Silver": 1, "Member": 1}
    assert job.status == "done"
    assert job.result is not None
    assert job.result["tiers"] == members
    assert (job.result["customers"], job.result["upgraded"]) == (3, 3)

    polled = api.client.get(f"/loyalty/review/{job_id}", headers={"HX-Request": "true"})
    assert polled.headers["HX-Refresh"] == "true"  # the page reloads with the new figures
    assert "hx-trigger" not in polled.text
    page = api.client.get("/loyalty").text
    assert "Tiers reviewed</strong>" in page
    assert "3 customers are in a tier now; 3 moved up, 0 down, 0 started falling" in page
    assert api.client.get("/loyalty/review/unknown").status_code == 404
    rest = api.client.get(f"/v1/jobs/{job_id}", headers=api.admin).json()
    assert rest["kind"] == "loyalty_tiers"
    assert rest["result"]["tiers"] == members


def test_only_admins_ask_for_a_review(api: Api) -> None:
    _shop(api)
    for email, role in (("vic@example.com", "viewer"), ("mia@example.com", "marketer")):
        csrf = _sign_in(api, email, role)
        assert "Review tiers now" not in api.client.get("/loyalty").text
        refused = api.client.post("/loyalty/review", data={"csrf": csrf})
        assert refused.status_code == 403
        api.client.post("/signout", data={"csrf": csrf})
    signed_out = api.client.post("/loyalty/review", data={"csrf": "x"}, follow_redirects=False)
    assert signed_out.status_code in (303, 401)
    with api.services.uow.transaction() as session:
        assert service.list_(session, kind="loyalty_tiers") == []


def test_without_a_programme_the_job_fails_in_words(api: Api) -> None:
    _shop(api, programme=False)
    csrf = _sign_in(api, "ada@example.com", "admin")
    api.client.post("/loyalty/review", data={"csrf": csrf})
    assert runner.run_next(api.services) is not None
    with api.services.uow.transaction() as session:
        job = service.latest(session, "loyalty_tiers")
    assert job is not None
    assert job.status == "failed"
    assert job.error == "there is no loyalty programme to review the tiers by"
    fragment = api.client.get(f"/loyalty/review/{job.id}").text
    assert "The tier review failed" in fragment
    assert "no loyalty programme" in fragment
