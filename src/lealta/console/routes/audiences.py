"""The Audiences pages: the list (``/audiences``), the builder of a new audience
(``/audiences/new``) and an audience's page (``/audiences/{id}``: its builder, size over time,
a sample of members, why a person is in or out, where it is used, "Refresh now"), its members
(``/audiences/{id}/members``), and the builder's live preview (``POST /audiences/preview``:
the fast estimate, which then asks ``POST /audiences/preview/exact`` for the exact count and
the funnel).

Everyone signed in reads them and previews; marketers and admins save (``edit_segments``)
and refresh. Every change carries the CSRF token and is audited.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from lealta.audiences import service
from lealta.bootstrap import Services
from lealta.console import audiences_page as page
from lealta.console.affinity_page import draft_from
from lealta.console.auth import SignedIn, signed_in
from lealta.console.edits import audit
from lealta.console.jobs_page import job_context
from lealta.console.journey_edit_page import input_id
from lealta.console.rendering import checked_form, render, require, services_of
from lealta.errors import Conflict, InvalidInput, LealtaError, NotFound
from lealta.jobs import service as jobs
from lealta.storage.retry import in_transaction

router = APIRouter(include_in_schema=False)
EDIT = "edit_segments"


@router.get("/audiences", response_class=HTMLResponse)
def audiences(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """Every audience with its size (as of its latest refresh), its change over 30 days and
    when it was refreshed."""
    context = page.list_context(services_of(request))
    return render(request, "audiences.html", user=user, **context)


def _builder(
    request: Request,
    user: SignedIn,
    draft: dict[str, Any],
    *,
    audience_id: int | None,
    status: int = 200,
    problems: list[page.Problem] | None = None,
    yaml_text: str | None = None,
    notice: str = "",
    touched: set[str] | None = None,
) -> HTMLResponse:
    services = services_of(request)
    audience = None
    extra: dict[str, Any] = {}
    if audience_id is not None:
        with services.uow.transaction() as session:
            audience = service.get(session, audience_id)
            session.expunge(audience)
        if not request.headers.get("hx-request"):  # a rule changed: only the builder is swapped
            extra = page.audience_context(services, audience_id, dict(request.query_params))
        job_id = request.query_params.get("job", "")
        if job_id:
            extra["job"] = _job(services, job_id)
    context = page.builder_context(
        services,
        draft,
        audience=audience,
        problems=problems,
        yaml_text=yaml_text,
        touched=touched,
    )
    return render(
        request,
        "audience.html",
        user=user,
        status=status,
        audience=audience,
        editable=user.can(EDIT),
        notice=notice,
        input_id=input_id,
        **context,
        **extra,
    )


def _job(services: Services, job_id: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = job_context(services, job_id)["job"]
    except NotFound:
        return None
    return found if found["kind"] == "audience_refresh" else None


@router.get("/audiences/new", response_class=HTMLResponse)
def new(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """The builder of a new audience, starting from one rule (the Affinity page's links start
    it on who bought an item or whose next-best item it is)."""
    draft = draft_from(request.query_params) or page.new_draft()
    return _builder(request, user, draft, audience_id=None, touched=set())


@router.get("/audiences/{audience_id:int}", response_class=HTMLResponse)
def audience(request: Request, audience_id: int, user: SignedIn = Depends(signed_in)) -> Response:
    """An audience: its builder with its current definition, size over time, a sample of
    members, "why in or out" (``who``: a contact id or e-mail) and where it is used."""
    services = services_of(request)
    try:
        with services.uow.transaction() as session:
            draft = page.draft_of(session, service.get(session, audience_id))
    except NotFound:
        return _missing(request, user, audience_id)
    saved = request.query_params.get("saved", "")
    notice = f"Saved as version {saved}. Members follow from the next refresh." if saved else ""
    return _builder(request, user, draft, audience_id=audience_id, notice=notice, touched=set())


def _missing(request: Request, user: SignedIn, audience_id: Any) -> HTMLResponse:
    return render(request, "audience_missing.html", user=user, status=404, audience_id=audience_id)


@router.post("/audiences/new", response_class=HTMLResponse)
async def post_new(request: Request, user: SignedIn = Depends(signed_in)) -> Response:
    """The builder's changes (``op``: ``refresh``, ``check``, ``add|PREFIX``,
    ``remove|PREFIX``, ``yaml``) or ``save`` (a new audience)."""
    return await _post(request, user, None)


@router.post("/audiences/{audience_id:int}", response_class=HTMLResponse)
async def post_audience(
    request: Request, audience_id: int, user: SignedIn = Depends(signed_in)
) -> Response:
    """As for a new audience; ``save`` stores a new version of this one."""
    services = services_of(request)
    try:
        with services.uow.transaction() as session:
            service.get(session, audience_id)
    except NotFound:
        return _missing(request, user, audience_id)
    return await _post(request, user, audience_id)


async def _post(request: Request, user: SignedIn, audience_id: int | None) -> Response:
    posted = {key: str(value) for key, value in (await checked_form(request, user, "read")).items()}
    op = posted.get("op", "refresh")
    if op == "yaml":
        try:
            draft = page.draft_from_yaml(posted.get("yaml", ""))
        except InvalidInput as exc:
            problem = page.Problem("yaml", str(exc))
            draft = page.read_draft({k: v for k, v in posted.items() if k == "draft"})
            return await run_in_threadpool(
                lambda: _builder(
                    request,
                    user,
                    draft,
                    audience_id=audience_id,
                    status=422,
                    problems=[problem],
                    yaml_text=posted.get("yaml", ""),
                )
            )
        return await run_in_threadpool(
            lambda: _builder(request, user, draft, audience_id=audience_id)
        )
    draft = page.read_draft(posted)
    if op != "save":
        # "check" (the button without scripts) shows every problem; a change only those of
        # the fields left so far
        touched = None if op == "check" else page.touched_of(posted, draft)
        return await run_in_threadpool(
            lambda: _builder(request, user, draft, audience_id=audience_id, touched=touched)
        )
    require(user, EDIT, "save an audience")
    if page.check_rules(draft)[1]:  # shown on their rules; nothing to save yet
        return await run_in_threadpool(
            lambda: _builder(request, user, draft, audience_id=audience_id, status=422)
        )
    try:
        saved_id, version = await run_in_threadpool(
            _save, services_of(request), user, draft, audience_id
        )
    except (InvalidInput, Conflict) as exc:
        problem = page.save_problem(exc)
        status = 422 if isinstance(exc, InvalidInput) else 409
        return await run_in_threadpool(
            lambda: _builder(
                request,
                user,
                draft,
                audience_id=audience_id,
                status=status,
                problems=[problem],
            )
        )
    return RedirectResponse(f"/audiences/{saved_id}?saved={version}", 303)


class TakenName(Conflict):
    """A new audience named like an existing one."""

    field = "name"


def _save(
    services: Services, user: SignedIn, draft: dict[str, Any], audience_id: int | None
) -> tuple[int, int]:
    now = services.clock.now()

    def work(session: Session) -> tuple[int, int]:
        if audience_id is None and draft["name"] in {
            a.name for a in service.list_(session, archived=True)
        }:
            # saving under a taken name would add a version to that audience, unseen
            raise TakenName(
                f"there is already an audience named {draft['name']!r}: open it "
                "from the list to change it, or choose another name"
            )
        saved = service.save(session, page.document(draft), now=now, audience_id=audience_id)
        found = saved.audience
        if saved.changed:
            detail = {"version": found.version, "name": found.name, "created": saved.created}
            audit(session, user, "audience saved", f"audience {found.id}", now, detail)
        return found.id, found.version

    result: tuple[int, int] = in_transaction(services.uow, work)
    return result


@router.post("/audiences/preview", response_class=HTMLResponse)
async def preview(request: Request, user: SignedIn = Depends(signed_in)) -> Response:
    """The fast estimate of the builder's rules (a slice of the contacts); the fragment then
    asks for the exact count and the funnel. Rules that do not hold together are named."""
    posted = {key: str(value) for key, value in (await checked_form(request, user, "read")).items()}
    draft = page.read_draft(posted)
    try:
        context = await run_in_threadpool(
            page.estimate_view, services_of(request), draft["condition"]
        )
    except LealtaError as exc:
        return render(request, "_audience_preview.html", user=user, problem=str(exc))
    return render(request, "_audience_preview.html", user=user, problem="", **context)


@router.post("/audiences/preview/exact", response_class=HTMLResponse)
async def preview_exact(request: Request, user: SignedIn = Depends(signed_in)) -> Response:
    """The exact count of the builder's rules and the funnel (who is left after each rule)."""
    posted = {key: str(value) for key, value in (await checked_form(request, user, "read")).items()}
    draft = page.read_draft(posted)
    try:
        context = await run_in_threadpool(page.exact_view, services_of(request), draft["condition"])
    except LealtaError as exc:
        return render(request, "_audience_exact.html", user=user, problem=str(exc))
    return render(request, "_audience_exact.html", user=user, problem="", **context)


@router.post("/audiences/preview/people", response_class=HTMLResponse)
async def preview_people(request: Request, user: SignedIn = Depends(signed_in)) -> Response:
    """The people behind an unsaved draft's exact count, or behind one line of its funnel
    (``step``), a page at a time (``after``): the builder posts itself here."""
    posted = {key: str(value) for key, value in (await checked_form(request, user, "read")).items()}
    draft = page.read_draft(posted)
    try:
        context = await run_in_threadpool(
            page.draft_people,
            services_of(request),
            draft,
            step=posted.get("step", ""),
            after=posted.get("after", ""),
        )
    except LealtaError as exc:
        return render(
            request, "audience_draft_people.html", user=user, status=422, problem=str(exc)
        )
    return render(request, "audience_draft_people.html", user=user, problem="", **context)


@router.get("/audiences/{audience_id:int}/members", response_class=HTMLResponse)
def members(request: Request, audience_id: int, user: SignedIn = Depends(signed_in)) -> Response:
    """The audience's members (as of its latest refresh), a page at a time."""
    try:
        context = page.members_context(
            services_of(request), audience_id, request.query_params.get("after", "")
        )
    except NotFound:
        return _missing(request, user, audience_id)
    return render(request, "audience_members.html", user=user, **context)


@router.post("/audiences/{audience_id:int}/refresh")
async def refresh(
    request: Request, audience_id: int, user: SignedIn = Depends(signed_in)
) -> Response:
    """Recompute the members now, in the background (an ``audience_refresh`` job run by the
    worker); audited. Back to the audience's page, which follows the job."""
    await checked_form(request, user, EDIT)
    services = services_of(request)
    try:
        job_id = await run_in_threadpool(_request_refresh, services, user, audience_id)
    except NotFound:
        return _missing(request, user, audience_id)
    return RedirectResponse(f"/audiences/{audience_id}?job={job_id}#refresh", 303)


def _request_refresh(services: Services, user: SignedIn, audience_id: int) -> str:
    now = services.clock.now()
    with services.uow.transaction() as session:
        name = service.get(session, audience_id).name
    job, new = jobs.enqueue(
        services.uow,
        kind="audience_refresh",
        params={"audience": name},
        requested_by=user.email,
        now=now,
    )

    def work(session: Session) -> None:
        detail = {"job": job.id, "audience": name, "already_under_way": not new}
        audit(session, user, "audience refresh requested", f"audience {audience_id}", now, detail)

    in_transaction(services.uow, work)
    return job.id


@router.get("/audiences/{audience_id:int}/jobs/{job_id}", response_class=HTMLResponse)
def refresh_job(
    request: Request, audience_id: int, job_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """The refresh job's progress, polled by itself while it runs; once done the page
    reloads (``HX-Refresh``) to show the new size."""
    found = _job(services_of(request), job_id)
    if found is None:
        return render(request, "_job_missing.html", user=user, status=404, job_id=job_id)
    answer = render(request, "_audience_job.html", user=user, job=found, audience_id=audience_id)
    if request.headers.get("hx-request") and not found["active"]:
        answer.headers["HX-Refresh"] = "true"
    return answer
