"""What the console shows of background jobs: one job's progress (``_job.html``) and the
"recompute RFM now" panel (``_rfm_recompute.html``) any page can include.

Pure functions of the services: a job becomes a plain dict of words and numbers.

How a page includes the panel::

    render(request, "segments.html", user=user, **recompute_context(services), ...)

    {% block head %}
    <link rel="stylesheet" href="/console/static/jobs.css?v={{ version }}">
    {% endblock %}
    {% include "_rfm_recompute.html" %}
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from lealta.bootstrap import Services
from lealta.contacts.schemas import as_utc
from lealta.jobs import service
from lealta.jobs.tables import ACTIVE, DONE, FAILED, QUEUED, Job
from lealta.segmentation.tables import ContactRfm

WAITING_AFTER = dt.timedelta(seconds=10)  # queued this long: no worker seems to be running


def job_view(job: Job, now: dt.datetime) -> dict[str, Any]:
    """A job as the page shows it: status, percentage, step in words, outcome."""
    created = as_utc(job.created_at)
    result = job.result or {}
    segments = result.get("segments") or []
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "active": job.status in ACTIVE,
        "done": job.status == DONE,
        "failed": job.status == FAILED,
        "percent": round(100 * float(job.progress or 0.0)),
        "step": job.step or "",
        "waiting_for_worker": job.status == QUEUED and now - created >= WAITING_AFTER,
        "requested_by": job.requested_by,
        "created_at": created,
        "started_at": _utc_or_none(job.started_at),
        "finished_at": _utc_or_none(job.finished_at),
        "customers": int(result.get("customers") or 0),
        "segments": len(segments),
        "clusters": result.get("clusters"),
        "upgraded": int(result.get("upgraded") or 0),  # a loyalty_tiers review
        "downgraded": int(result.get("downgraded") or 0),
        "at_risk": int(result.get("at_risk") or 0),
        "error": job.error or "",
        **_described(job.kind, job.params or {}, result),
    }


def _described(kind: str, params: dict[str, Any], result: dict[str, Any]) -> dict[str, str]:
    """The job's name, its outcome in words and the page showing what it changed."""
    customers = int(result.get("customers") or 0)
    if kind == "rfm":
        segments = len(result.get("segments") or [])
        return {
            "title": "RFM recomputation",
            "outcome": f"{customers:,} customers, {segments:,} segments",
            "link": "/segments",
        }
    if kind in ("loyalty_tiers", "loyalty_review"):
        if kind == "loyalty_review" and params.get("scope") != "all":
            reviewed = int(result.get("contacts") or 0)
            return {
                "title": "Loyalty review of new orders",
                "outcome": f"{reviewed:,} customers with new orders reviewed, "
                f"{int(result.get('upgraded') or 0):,} up",
                "link": "/loyalty",
            }
        title = "Loyalty tier review" if kind == "loyalty_tiers" else "Daily loyalty review"
        moves = ", ".join(
            f"{int(result.get(key) or 0):,} {words}"
            for key, words in (("upgraded", "up"), ("downgraded", "down"), ("at_risk", "at risk"))
        )
        return {
            "title": title,
            "outcome": f"{customers:,} customers in a tier; {moves}",
            "link": "/loyalty",
        }
    if kind == "audience_refresh":
        audiences = int(result.get("audiences") or 0)
        return {
            "title": "Audience refresh" + (" (scheduled)" if params.get("scope") else ""),
            "outcome": f"{audiences:,} audiences, {int(result.get('entered') or 0):,} entered, "
            f"{int(result.get('exited') or 0):,} exited",
            "link": "",
        }
    if kind == "next_best":
        people = int(result.get("contacts") or 0)
        return {
            "title": "Next-best " + str(params.get("by") or result.get("by") or "items"),
            "outcome": f"{int(result.get('suggestions') or 0):,} suggestions for {people:,} "
            "customers",
            "link": "",
        }
    if kind == "clv":
        return {
            "title": "Predicted value",
            "outcome": f"{int(result.get('customers') or 0):,} customers scored, "
            f"{int(result.get('churn_risk_rose') or 0):,} fell below the churn alert",
            "link": "",
        }
    return {"title": kind.replace("_", " ").capitalize(), "outcome": "", "link": ""}


def job_context(services: Services, job_id: str) -> dict[str, Any]:
    """What ``_job.html`` needs for the job ``job_id`` (raises NotFound)."""
    with services.uow.transaction() as session:
        job = service.get(session, job_id)
        return {"job": job_view(job, services.clock.now())}


def recompute_context(services: Services) -> dict[str, Any]:
    """What ``_rfm_recompute.html`` needs, under the one key ``recompute``.

    ``recompute.job``: the latest RFM job (a :func:`job_view`) or ``None``;
    ``recompute.computed_at``: when the RFM now in ``contact_rfm`` was computed (``None``
    when never; every row of a run carries the same moment, so one row tells).
    """
    with services.uow.transaction() as session:
        latest = service.latest(session, "rfm")
        computed_at = session.scalars(select(ContactRfm.computed_at).limit(1)).first()
        now = services.clock.now()
        return {
            "recompute": {
                "job": job_view(latest, now) if latest is not None else None,
                "computed_at": _utc_or_none(computed_at),
            }
        }


def loyalty_review_context(services: Services) -> dict[str, Any]:
    """The latest "Review tiers now" job (a :func:`job_view`, under ``review_job``) or None."""
    with services.uow.transaction() as session:
        latest = service.latest(session, "loyalty_tiers")
        now = services.clock.now()
        return {"review_job": job_view(latest, now) if latest is not None else None}


def jobs_context(services: Services, *, limit: int = 20) -> dict[str, Any]:
    """The latest jobs (the jobs page), with the recompute panel's context."""
    with services.uow.transaction() as session:
        now = services.clock.now()
        jobs = [job_view(job, now) for job in service.list_(session, limit=limit)]
    return {"jobs": jobs, **recompute_context(services)}


def _utc_or_none(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else as_utc(moment)
