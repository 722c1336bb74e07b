"""The Loyalty pages: the programme in force with its figures (``/loyalty``), the people behind
a figure (``/loyalty/people``), the programme editor with its preview and versions
(``/loyalty/program``) and "Review tiers now" (``POST /loyalty/review``: a background job,
followed at ``/loyalty/review/{job_id}``).

Everyone signed in reads them. Marketers and admins edit the programme (``edit_segments``:
the tiers are customer segments); only admins run a review from the console, since it writes
every customer's tier and starts the workflows tier events trigger. Every change carries the
CSRF token and is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from lealta.bootstrap import Services
from lealta.console.auth import Refused, SignedIn, signed_in
from lealta.console.edits import audit
from lealta.console.jobs_page import job_context, loyalty_review_context
from lealta.console.loyalty_card import progress_words
from lealta.console.loyalty_page import (
    loyalty_context,
    people_context,
    preview_view,
    versions_context,
)
from lealta.console.loyalty_yaml import Problem, check
from lealta.console.profile_page import profile_context
from lealta.console.rendering import checked_form, render, services_of
from lealta.console.routes.contacts import back_to
from lealta.demo.loyalty import example_text
from lealta.errors import InvalidInput, LealtaError, NotFound
from lealta.jobs import service as jobs
from lealta.loyalty import overrides, service
from lealta.loyalty.preview import preview, warm_unless_busy
from lealta.loyalty.program import LoyaltyProgram
from lealta.loyalty.tier_uses import TierUse, uses_of_dropped
from lealta.storage.retry import in_transaction

router = APIRouter(include_in_schema=False)
EDIT = "edit_segments"
MAX_TEXT = 200_000


@router.get("/loyalty", response_class=HTMLResponse)
def loyalty(
    request: Request, background: BackgroundTasks, user: SignedIn = Depends(signed_in)
) -> HTMLResponse:
    """The programme in force, members and revenue per tier, migrations, benefit use, points
    liability, and the latest "Review tiers now" job."""
    services = services_of(request)
    context = loyalty_context(services, dict(request.query_params))
    if context["stored"] is not None and user.can(EDIT):
        background.add_task(warm_unless_busy, services)  # the preview and cards, ready sooner
    status = 400 if context["problem"] else 200
    return render(
        request,
        "loyalty.html",
        user=user,
        status=status,
        notice="",
        **context,
        **loyalty_review_context(services),
    )


@router.get("/loyalty/people", response_class=HTMLResponse)
def people(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """The people in a tier now, or who moved between two tiers, a page at a time."""
    try:
        context = people_context(services_of(request), dict(request.query_params))
    except InvalidInput as problem:
        return render(request, "loyalty_people.html", user=user, status=400, problem=str(problem))
    return render(request, "loyalty_people.html", user=user, problem="", **context)


def _editor(
    request: Request,
    user: SignedIn,
    *,
    text: str | None = None,
    status: int = 200,
    problems: list[Problem] | None = None,
    previewed: dict[str, Any] | None = None,
    notice: str = "",
    uses: list[TierUse] | None = None,
    confirm: bool = False,
) -> HTMLResponse:
    context = versions_context(services_of(request))
    shown = context["text"] if text is None else text
    return render(
        request,
        "loyalty_program.html",
        user=user,
        status=status,
        editable=user.can(EDIT),
        shown=shown,
        problems=problems or [],
        previewed=previewed,
        notice=notice,
        uses=uses or [],
        confirm=confirm,
        **context,
    )


@router.get("/loyalty/program", response_class=HTMLResponse)
def program_page(
    request: Request, background: BackgroundTasks, user: SignedIn = Depends(signed_in)
) -> HTMLResponse:
    """The programme's YAML (``?example=genius``: the shipped example to start from), its
    versions with what changed; editable by marketers and admins."""
    text = example_text() if request.query_params.get("example") == "genius" else None
    if user.can(EDIT):  # the first "Preview" then finds the facts read and the engine ready
        background.add_task(warm_unless_busy, services_of(request))
    saved = request.query_params.get("saved", "")
    notice = ""
    if saved.isdigit():
        notice = (
            f"Saved as version {saved}. It applies from the next review (after the next RFM "
            "run, or Review tiers now)."
        )
    return _editor(request, user, text=text, notice=notice)


@router.post("/loyalty/program", response_class=HTMLResponse)
async def program_post(request: Request, user: SignedIn = Depends(signed_in)) -> Response:
    """Preview the edited programme (``op=preview``: customers per tier, nothing written) or
    save it as a new version (``op=save``)."""
    form = await checked_form(request, user, EDIT)
    text = str(form.get("yaml", ""))
    if len(text) > MAX_TEXT:
        problem = Problem("", f"the programme is too long ({len(text):,} characters)", None)
        return _editor(request, user, text=text[:MAX_TEXT], status=422, problems=[problem])
    program, problems = check(text)
    if program is None:
        return await run_in_threadpool(
            lambda: _editor(request, user, text=text, status=422, problems=problems)
        )
    services = services_of(request)
    uses = await run_in_threadpool(_dropped_uses, services, program)
    if str(form.get("op", "preview")) != "save":
        try:
            found = await run_in_threadpool(preview, services, program)
        except InvalidInput as exc:
            problem = Problem(exc.field or "", str(exc), None)
            return _editor(request, user, text=text, status=422, problems=[problem])
        shown = preview_view(found, program.currency)
        return await run_in_threadpool(
            lambda: _editor(request, user, text=text, previewed=shown, uses=uses)
        )
    if uses and form.get("confirm_dropped") != "yes":  # saved only once the marketer agrees
        return await run_in_threadpool(
            lambda: _editor(request, user, text=text, status=409, uses=uses, confirm=True)
        )
    now = services.clock.now()

    def work(session: Session) -> int:
        stored = service.save(session, text, now=now)
        detail = {"version": stored.version, "name": stored.program.name}
        audit(session, user, "loyalty programme saved", "loyalty programme", now, detail)
        return stored.version

    version: int = await run_in_threadpool(in_transaction, services.uow, work)
    return RedirectResponse("/loyalty/program?" + urlencode({"saved": version}), 303)


def _dropped_uses(services: Services, program: LoyaltyProgram) -> list[TierUse]:
    """Workflows and placements naming a tier the programme in force has and ``program``
    lacks (:mod:`lealta.loyalty.tier_uses`)."""
    with services.uow.transaction() as session:
        stored = service.get(session)
        return uses_of_dropped(session, stored.program if stored else None, program)


@router.post("/loyalty/review")
async def review(request: Request, user: SignedIn = Depends(signed_in)) -> Response:
    """Review every customer's tier under the programme in force, in the background (a
    ``loyalty_tiers`` job run by the worker; the one under way when asked twice). Admins
    only; audited. Back to the Loyalty page, which follows the job."""
    await checked_form(request, user, "read")
    if user.role != "admin":
        raise Refused(f"only an admin can review the tiers now; you are a {user.role}")
    await run_in_threadpool(request_review, services_of(request), user)
    return RedirectResponse("/loyalty#review", 303)


def request_review(services: Services, user: SignedIn) -> str:
    """Queue a review of every customer's tier (or find the one under way), audited; the
    job's id."""
    now = services.clock.now()
    job, new = jobs.enqueue(
        services.uow, kind="loyalty_tiers", params={}, requested_by=user.email, now=now
    )

    def work(session: Session) -> None:
        detail = {"job": job.id, "already_under_way": not new}
        audit(session, user, "loyalty tier review requested", f"job {job.id}", now, detail)

    in_transaction(services.uow, work)
    return job.id


@router.get("/loyalty/review/{job_id}", response_class=HTMLResponse)
def review_job(request: Request, job_id: str, user: SignedIn = Depends(signed_in)) -> Response:
    """The review job's progress (``_loyalty_job.html``), polled by itself while it runs; when
    a poll finds it done the page reloads (``HX-Refresh``) to show the new figures."""
    try:
        context = job_context(services_of(request), job_id)
    except NotFound:
        return render(request, "_job_missing.html", user=user, status=404, job_id=job_id)
    if context["job"]["kind"] != "loyalty_tiers":
        return render(request, "_job_missing.html", user=user, status=404, job_id=job_id)
    answer = render(request, "_loyalty_job.html", user=user, **context)
    if request.headers.get("hx-request") and not context["job"]["active"]:
        answer.headers["HX-Refresh"] = "true"
    return answer


@router.post("/contacts/{contact_id}/loyalty/override")
async def override(
    request: Request, contact_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Put the contact in a tier by decision (``op=set``: ``tier``, ``reason``, ``until``
        optional) or end the decision (``op=remove``); admins only, audited. Back to the contact's
        card; a refused change shows the page again with the reason beside the form (400, as the
    page's other forms)."""
    form = await checked_form(request, user, "read")
    if user.role != "admin":
        raise Refused(f"only an admin can decide a tier; you are a {user.role}")
    services = services_of(request)
    op = str(form.get("op", "set"))
    typed = {key: str(form.get(key, "")) for key in ("tier", "reason", "until")}
    now = services.clock.now()

    def work(session: Session) -> None:
        if op == "remove":
            done = overrides.remove_override(session, contact_id, now=now)
            detail: dict[str, Any] = {"contact": done.contact_id, "tier": done.after}
            audit(
                session, user, "loyalty decision removed", f"contact {done.contact_id}", now, detail
            )
            return
        until = _day(typed["until"])
        done = overrides.set_override(
            session,
            contact_id,
            tier=typed["tier"],
            reason=typed["reason"],
            until=until,
            set_by=user.email,
            now=now,
        )
        detail = {"contact": done.contact_id, "tier": done.after, "before": done.before}
        detail |= {"reason": typed["reason"].strip(), "until": typed["until"] or None}
        audit(session, user, "loyalty tier decided", f"contact {done.contact_id}", now, detail)

    try:
        await run_in_threadpool(in_transaction, services.uow, work)
    except LealtaError as problem:
        context = await run_in_threadpool(
            profile_context,
            services,
            contact_id,
            {},
            edit_section="loyalty",
            edit_problem=str(problem),
            typed=typed,
        )
        status = context.pop("status")
        return render(
            request, "contact.html", user=user, status=status if status != 200 else 400, **context
        )
    return back_to(contact_id, "loyalty")


def _day(text: str) -> dt.date | None:
    """``until`` as typed: empty (no end) or a day ``YYYY-MM-DD``."""
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"until {text!r} is not a day (YYYY-MM-DD)", field="until") from None


@router.get("/loyalty/progress/{contact_id}", response_class=HTMLResponse)
def progress(request: Request, contact_id: str, user: SignedIn = Depends(signed_in)) -> Response:
    """The contact's progress to the next tier, in words (a fragment of the contact page)."""
    services = services_of(request)
    try:
        with services.uow.transaction() as session:
            found = progress_words(session, contact_id, services.clock.now())
    except LealtaError as problem:
        return render(
            request, "_loyalty_progress.html", user=user, status=404, problem=str(problem)
        )
    return render(
        request,
        "_loyalty_progress.html",
        user=user,
        problem="",
        words=found["words"],
        ordered=found["ordered"],
        keep=found["keep"],
        drops_on=found["drops_on"],
        drops_to=found["drops_to"],
    )
