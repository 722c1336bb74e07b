"""Background jobs in the console: "recompute RFM now", a job's progress (an htmx fragment
that polls itself) and the latest jobs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from lealta.bootstrap import Services
from lealta.console.auth import SignedIn, safe_next, signed_in
from lealta.console.edits import audit
from lealta.console.jobs_page import job_context, jobs_context
from lealta.console.rendering import checked_form, render, services_of
from lealta.errors import NotFound
from lealta.jobs import service
from lealta.storage.retry import in_transaction

router = APIRouter(include_in_schema=False)


def request_rfm(services: Services, user: SignedIn, *, clusters: bool = False) -> str:
    """Queue an RFM recomputation (or find the one under way), audited; the job's id.

    ``clusters``: also group the customers by K-Means, their number chosen by silhouette.
    """
    now = services.clock.now()
    params = {"clusters": "auto"} if clusters else {}
    job, new = service.enqueue(
        services.uow, kind="rfm", params=params, requested_by=user.email, now=now
    )

    def work(session: Session) -> None:
        detail = {"job": job.id, "already_under_way": not new, **params}
        audit(session, user, "RFM recomputation requested", f"job {job.id}", now, detail)

    in_transaction(services.uow, work)
    return job.id


@router.post("/segments/recompute")
async def recompute(request: Request, user: SignedIn = Depends(signed_in)) -> Response:
    """Recompute every customer's RFM scores in the background, then back to the page."""
    form = await checked_form(request, user, "edit_segments")
    clusters = str(form.get("clusters", "")) == "auto"
    await run_in_threadpool(request_rfm, services_of(request), user, clusters=clusters)
    return RedirectResponse(safe_next(str(form.get("back") or "/segments")), 303)


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """The latest background jobs, and the recompute panel."""
    return render(request, "jobs.html", user=user, **jobs_context(services_of(request)))


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_fragment(request: Request, job_id: str, user: SignedIn = Depends(signed_in)) -> Response:
    """One job's progress (``_job.html``), polled by itself while it runs.

    When a poll finds the job done, the whole page reloads (``HX-Refresh``) so that what the
    job changed (the segments, "last computed") shows at once, with the "Done" line.
    """
    try:
        context = job_context(services_of(request), job_id)
    except NotFound:
        return render(request, "_job_missing.html", user=user, status=404, job_id=job_id)
    answer = render(request, "_job.html", user=user, **context)
    if request.headers.get("hx-request") and context["job"]["done"]:
        answer.headers["HX-Refresh"] = "true"
    return answer
