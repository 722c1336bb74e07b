"""The Journeys pages: workflows and the library, one workflow drawn with its live counts and
versions, a step's people, trying a workflow on a contact, and the changes (install, import,
enable, pause, end all runs) a marketer makes there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from lealta.console import journeys_actions as actions
from lealta.console.auth import SignedIn, signed_in
from lealta.console.journeys_page import (
    detail_context,
    figures,
    journey_url,
    list_context,
    people_context,
    step_context,
)
from lealta.console.journeys_try import message_body, try_context
from lealta.console.rendering import HEADERS, checked_form, render, services_of
from lealta.errors import Conflict, InvalidInput, LealtaError, NotFound

router = APIRouter(include_in_schema=False)
EDIT = "edit_workflows"
# A rendered e-mail is shown as it is (its own styles), but runs nothing and loads only images.
MESSAGE_HEADERS = {
    **HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
        "frame-ancestors 'self'; sandbox"
    ),
}


def _status_of(problem: LealtaError) -> int:
    if isinstance(problem, NotFound):
        return 404
    if isinstance(problem, Conflict):
        return 409
    return 400


def _problem_page(request: Request, user: SignedIn, problem: LealtaError) -> HTMLResponse:
    return render(
        request,
        "journeys_problem.html",
        user=user,
        status=_status_of(problem),
        problem=str(problem),
    )


async def _page(
    request: Request, user: SignedIn, template: str, build: Callable[[], dict[str, Any]]
) -> HTMLResponse:
    try:
        context = await run_in_threadpool(build)
    except LealtaError as problem:
        return _problem_page(request, user, problem)
    return render(request, template, user=user, **context)


@router.get("/journeys", response_class=HTMLResponse)
async def journeys(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """The workflows in the store with their figures, the library, and the import form."""
    services = services_of(request)
    return await _page(request, user, "journeys.html", lambda: list_context(services))


@router.post("/journeys/library/{template_id}")
async def use_template(
    request: Request, template_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Install a shipped workflow as a draft, with its message templates."""
    await checked_form(request, user, EDIT)
    services = services_of(request)
    try:
        done = await run_in_threadpool(
            actions.install,
            services,
            user,
            template_id,
        )
    except LealtaError as problem:
        return _problem_page(request, user, problem)
    return RedirectResponse(journey_url(done.saved.workflow_id) + "?installed=1", 303)


@router.post("/journeys/import", response_class=HTMLResponse)
async def import_workflow(request: Request, user: SignedIn = Depends(signed_in)) -> Response:
    """Store an uploaded (or pasted) YAML/JSON workflow; errors come back with their place."""
    form = await checked_form(request, user, EDIT)
    upload = form.get("file")
    text = str(form.get("text", ""))
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(actions.MAX_FILE_BYTES + 1)
        text = raw.decode("utf-8", errors="replace")
    await form.close()
    services = services_of(request)
    try:
        if len(text.encode()) > actions.MAX_FILE_BYTES:
            raise InvalidInput("the workflow file is larger than 256 KB", field="file")
        if not text.strip():
            raise InvalidInput("choose a YAML or JSON workflow file, or paste one", field="file")
        saved = await run_in_threadpool(actions.import_file, services, user, text)
    except LealtaError as problem:
        context = await run_in_threadpool(list_context, services)
        return render(
            request,
            "journeys.html",
            user=user,
            status=400,
            import_problem=str(problem),
            import_text=text,
            **context,
        )
    return RedirectResponse(journey_url(saved.workflow_id) + "?imported=1", 303)


@router.get("/journeys/{workflow_id}", response_class=HTMLResponse)
async def journey(
    request: Request, workflow_id: str, user: SignedIn = Depends(signed_in)
) -> HTMLResponse:
    """The flow drawn with live counts, the buttons, versions and what changed."""
    services = services_of(request)
    query = dict(request.query_params)
    return await _page(
        request,
        user,
        "journey.html",
        lambda: {**detail_context(services, workflow_id, query), "query": query},
    )


async def _change(
    request: Request, user: SignedIn, workflow_id: str, change: Callable[[], object], done: str
) -> Response:
    """Make the change and go back to the workflow; a refusal shows the workflow with why."""
    services = services_of(request)
    try:
        await run_in_threadpool(change)
    except LealtaError as problem:
        try:
            context = await run_in_threadpool(detail_context, services, workflow_id, {})
        except LealtaError as missing:
            return _problem_page(request, user, missing)
        return render(
            request,
            "journey.html",
            user=user,
            status=_status_of(problem),
            action_problem=str(problem),
            query={},
            **context,
        )
    # the marketer sees the effect of their own change at once, however big the workflow
    figures(services).forget(lambda key: key == ("list",) or workflow_id in key[1:2])
    return RedirectResponse(f"{journey_url(workflow_id)}?{done}=1", 303)


@router.post("/journeys/{workflow_id}/enable")
async def enable(
    request: Request, workflow_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Switch the workflow on (refused, with the reason, while its messages are missing)."""
    await checked_form(request, user, EDIT)
    services = services_of(request)
    return await _change(
        request,
        user,
        workflow_id,
        lambda: actions.set_status(services, user, workflow_id, "enable"),
        "enabled",
    )


@router.post("/journeys/{workflow_id}/pause")
async def pause(
    request: Request, workflow_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Stop enrolling; runs wait where they are until it is enabled again."""
    await checked_form(request, user, EDIT)
    services = services_of(request)
    return await _change(
        request,
        user,
        workflow_id,
        lambda: actions.set_status(services, user, workflow_id, "pause"),
        "paused",
    )


@router.post("/journeys/{workflow_id}/end")
async def end_runs(
    request: Request, workflow_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """End every run under way once the marketer typed the number of people in it."""
    form = await checked_form(request, user, EDIT)
    typed = str(form.get("confirm", "")).replace(",", "").replace(".", "").strip()
    services = services_of(request)

    def change() -> int:
        if not typed.isdigit():
            raise InvalidInput(
                "type the number of people in the workflow to confirm", field="confirm"
            )
        return actions.end_all(services, user, workflow_id, int(typed))

    return await _change(request, user, workflow_id, change, "ended")


@router.get("/journeys/{workflow_id}/steps/{step_id}", response_class=HTMLResponse)
async def step(
    request: Request, workflow_id: str, step_id: str, user: SignedIn = Depends(signed_in)
) -> HTMLResponse:
    """One step: its counts and branches, the people waiting there, its messages' figures."""
    services = services_of(request)
    query = dict(request.query_params)
    return await _page(
        request,
        user,
        "journey_step.html",
        lambda: step_context(services, workflow_id, step_id, query),
    )


@router.get("/journeys/{workflow_id}/people", response_class=HTMLResponse)
async def people(
    request: Request, workflow_id: str, user: SignedIn = Depends(signed_in)
) -> HTMLResponse:
    """The workflow's people by status (in it now by default), a page at a time."""
    services = services_of(request)
    query = dict(request.query_params)
    return await _page(
        request, user, "journey_people.html", lambda: people_context(services, workflow_id, query)
    )


@router.get("/journeys/{workflow_id}/try", response_class=HTMLResponse)
async def try_page(
    request: Request, workflow_id: str, user: SignedIn = Depends(signed_in)
) -> HTMLResponse:
    """Simulate the workflow for a contact with planned events; a dry run over an audience."""
    services = services_of(request)
    query = {key: request.query_params.getlist(key) for key in request.query_params}
    try:
        context = await run_in_threadpool(try_context, services, workflow_id, query)
    except LealtaError as problem:
        return _problem_page(request, user, problem)
    status = 400 if context["problem"] else 200
    return render(request, "journey_try.html", user=user, status=status, **context)


@router.get("/journeys/{workflow_id}/try/message")
async def try_message(
    request: Request, workflow_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """One simulated message rendered for the contact: the e-mail's HTML as it would be sent
    (scripts never run), else its text."""
    services = services_of(request)
    query = {key: request.query_params.getlist(key) for key in request.query_params}
    try:
        index = int(request.query_params.get("n", "0"))
        message = await run_in_threadpool(message_body, services, workflow_id, query, index)
    except ValueError:
        return _problem_page(request, user, InvalidInput("n must be a message number", field="n"))
    except LealtaError as problem:
        return _problem_page(request, user, problem)
    if message.get("problem"):
        return _problem_page(request, user, InvalidInput(str(message["problem"])))
    if message.get("html"):
        return HTMLResponse(str(message["html"]), headers=MESSAGE_HEADERS)
    return Response(
        str(message.get("text", "")), media_type="text/plain; charset=utf-8", headers=HEADERS
    )
