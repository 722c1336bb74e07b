"""Refreshing audiences in the background (SQLite and PostgreSQL): the worker's scheduled
pass (recorded for the Jobs page), the audience_refresh job kind, and after an RFM run only
the audiences that read RFM."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import delete

from lealta.audiences import service
from lealta.audiences.schedule import MARK, AudienceSchedule, after_rfm
from lealta.clock import FrozenClock
from lealta.console.jobs_page import job_view
from lealta.jobs import service as jobs
from lealta.jobs.runner import run_next
from lealta.segmentation.tables import ContactRfm
from tests.integration.audiences.helpers import NOW, add_contacts, tag, track
from tests.integration.conftest import Api

LOOKERS = "name: Lookers\ncondition: {kind: event_count, event: Product Viewed, within_days: 7}\n"
CHAMPIONS = "name: Champions\ncondition: {kind: segment, in: [Champions]}\n"


def _setup(api: Api) -> tuple[str, str]:
    with api.services.uow.transaction() as session:
        ana, ben = add_contacts(session, 2)
        track(session, ana, "Product Viewed", NOW - dt.timedelta(days=2))
        tag(session, ben, "vip")
        session.add(
            ContactRfm(
                contact_id=ben,
                recency_days=3,
                frequency=9,
                monetary=900.0,
                r=5,
                f=5,
                m=5,
                code="555",
                segment="Champions",
                as_of=NOW,
                computed_at=NOW,
            )
        )
        service.save(session, LOOKERS, now=NOW)
        service.save(session, CHAMPIONS, now=NOW)
    return ana, ben


def _sizes(api: Api) -> dict[str, int | None]:
    with api.services.uow.transaction() as session:
        return {a.name: a.size for a in service.list_(session)}


def test_the_scheduled_pass_refreshes_everything_and_is_recorded(api: Api) -> None:
    _setup(api)
    services = dataclasses.replace(api.services, clock=FrozenClock(NOW))
    schedule = AudienceSchedule(services)
    done = schedule.run_if_due()
    assert done is not None
    assert {r.name: r.entered for r in done} == {"Champions": 1, "Lookers": 1}
    assert schedule.run_if_due() is None  # not due again for 300 s
    with api.services.uow.transaction() as session:
        shown = job_view(jobs.get(session, MARK), NOW)
    assert shown["title"] == "Audience refresh (scheduled)"
    assert shown["outcome"] == "2 audiences, 2 entered, 0 exited"
    later = dataclasses.replace(services, clock=FrozenClock(NOW + dt.timedelta(days=6)))
    off = dataclasses.replace(
        later, settings=later.settings.model_copy(update={"audiences_refresh_every": 0})
    )
    assert AudienceSchedule(off).run_if_due() is None
    again = AudienceSchedule(later).run_if_due()
    assert again is not None
    assert {r.name: r.exited for r in again} == {"Champions": 0, "Lookers": 1}


def test_the_job_kind_and_the_refresh_after_rfm(api: Api) -> None:
    _setup(api)
    job, _new = jobs.enqueue(
        api.services.uow,
        kind="audience_refresh",
        params={"audience": "Lookers"},
        requested_by="test",
        now=NOW,
    )
    assert run_next(api.services) is not None
    with api.services.uow.transaction() as session:
        finished = jobs.get(session, job.id)
        assert (finished.status, finished.result["sizes"]) == ("done", {"Lookers": 1})
    assert _sizes(api) == {"Champions": None, "Lookers": 1}
    assert [r.name for r in after_rfm(api.services)] == ["Champions"]
    assert _sizes(api) == {"Champions": 1, "Lookers": 1}
    with api.services.uow.transaction() as session:
        session.execute(delete(ContactRfm))
    assert [(r.name, r.exited) for r in after_rfm(api.services)] == [("Champions", 1)]
