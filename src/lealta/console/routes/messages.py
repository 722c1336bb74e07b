"""Message templates: the list, the editor (save, languages, validation with lines), the preview
of a draft for a contact (a framed document with a strict policy of its own), and test sends.

Saving goes through the same service as ``PUT /v1/templates/{id}`` and is audited; a test
send goes through the configured e-mail channel and never through the outbox (see
:mod:`lealta.messages.testsend`), so reports never count it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from lealta.console.auth import SignedIn, signed_in
from lealta.console.messages_page import (
    PARTS,
    body_from_form,
    editor_context,
    list_context,
    new_template_problem,
    posted_languages,
)
from lealta.console.messages_preview import (
    FRAME_HEADERS,
    contact_choices,
    frame_html,
    preview_of,
    problems_of,
)
from lealta.console.messages_sending import save_template, send_test_email
from lealta.console.rendering import checked_form, render, services_of
from lealta.errors import LealtaError, NotFound
from lealta.messages import service
from lealta.messages.model import normalize_channel
from lealta.messages.problems import Problem
from lealta.messages.tables import MessageTemplate
from lealta.messages.testsend import Draft, draft_of

router = APIRouter(include_in_schema=False)
EDIT = "edit_workflows"  # templates are part of the journeys a marketer edits (users/roles.py)


@router.get("/messages", response_class=HTMLResponse)
def messages(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """The templates, searched by name, with who uses them and their last 30 days."""
    context = list_context(services_of(request), dict(request.query_params))
    return render(request, "messages.html", user=user, **context)


@router.get("/messages/new", response_class=HTMLResponse)
def new_message(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """An empty editor for a new template of the chosen channel."""
    query = dict(request.query_params)
    channel = query.get("channel", "email")
    channel = channel if channel in PARTS else "email"
    context = editor_context(
        services_of(request),
        template_id=query.get("id", ""),
        channel=channel,
        description="",
        body={},
        is_new=True,
    )
    return render(request, "message.html", user=user, **context)


@router.post("/messages/new", response_class=HTMLResponse)
async def create_message(request: Request, user: SignedIn = Depends(signed_in)) -> Response:
    """Store a new template (refused, with the reason, when its name is taken or wrong)."""
    form = await checked_form(request, user, EDIT)
    template_id = str(form.get("id", "")).strip()
    channel = str(form.get("channel", "email"))
    problem = new_template_problem(template_id, channel)
    if problem is None and await run_in_threadpool(_exists, request, template_id):
        problem = f"there is already a template called {template_id}: choose another name"
    problems = [Problem("error", "id", problem)] if problem else []
    return await _save(request, user, form, template_id, channel, {}, problems, is_new=True)


@router.get("/messages/{template_id}", response_class=HTMLResponse)
def message(request: Request, template_id: str, user: SignedIn = Depends(signed_in)) -> Response:
    """The editor of a stored template with its preview for a contact."""
    services = services_of(request)
    query = dict(request.query_params)
    with services.uow.transaction() as session:
        row = session.get(MessageTemplate, template_id)
        if row is None:
            return render(
                request, "message_missing.html", user=user, status=404, template_id=template_id
            )
        channel, description, body = row.channel, row.description, dict(row.body)
        version, updated = row.version, row.updated_at
    context = editor_context(
        services,
        template_id=template_id,
        channel=channel,
        description=description,
        body=body,
        contact_id=query.get("contact") or None,
        language=query.get("language") or None,
        version=version,
        updated_at=updated,
    )
    context["saved"] = query.get("saved") == "1"
    return render(request, "message.html", user=user, **context)


@router.post("/messages/{template_id}", response_class=HTMLResponse)
async def save_message(
    request: Request, template_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Save the editor's form (``action=save``), or add or remove a language of the draft."""
    form = await checked_form(request, user, EDIT)
    channel, body, version = await run_in_threadpool(_stored, request, template_id)
    return await _save(request, user, form, template_id, channel, body, [], version=version)


async def _save(
    request: Request,
    user: SignedIn,
    form: FormData,
    template_id: str,
    channel: str,
    stored: dict[str, Any],
    problems: list[Problem],
    *,
    is_new: bool = False,
    version: int | None = None,
) -> Response:
    services = services_of(request)
    fields = _fields(form)
    codes, language_problem = posted_languages(fields, form.getlist("languages"))  # type: ignore[arg-type]
    description = fields.get("description", "")
    try:
        body = body_from_form(channel, fields, codes, stored)
    except LealtaError as exc:
        body, problems = stored, [*problems, *problems_of(exc)]
    if language_problem:
        problems = [*problems, Problem("error", "new_language", language_problem)]
    action = fields.get("action", "save")
    if action == "save" and not problems:
        try:
            await run_in_threadpool(
                save_template, services, user, template_id, channel, body, description
            )
        except LealtaError as exc:
            problems = problems_of(exc)
        else:
            return RedirectResponse(f"/messages/{quote(template_id, safe='')}?saved=1", 303)
    context = await run_in_threadpool(
        lambda: editor_context(
            services,
            template_id=template_id,
            channel=channel,
            description=description,
            body=_with_languages(body, codes),
            problems=problems,
            contact_id=fields.get("contact") or None,
            language=fields.get("language") or None,
            is_new=is_new,
            version=version,
        )
    )
    context["adding"] = fields.get("new_language", "") if language_problem else ""
    status = 400 if any(p.severity == "error" for p in problems) else 200
    return render(request, "message.html", user=user, status=status, **context)


@router.post("/messages/{template_id}/preview", response_class=HTMLResponse)
async def preview_message(
    request: Request, template_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """The preview's details (subject, text part, SMS and push texts, tracked links) of the
    posted draft: the fragment the editor swaps in."""
    form = await checked_form(request, user, "read")
    draft, problems = await run_in_threadpool(_draft, request, template_id, form)
    preview = (
        {"problems": problems, "parts": {}}
        if draft is None
        else await run_in_threadpool(preview_of, services_of(request), draft)
    )
    return render(request, "_message_preview.html", user=user, preview=preview)


@router.get("/messages/{template_id}/frame")
def frame(request: Request, template_id: str, user: SignedIn = Depends(signed_in)) -> Response:
    """The stored template's HTML as it will arrive, for the preview frame."""
    services = services_of(request)
    query = dict(request.query_params)
    try:
        with services.uow.transaction() as session:
            draft = draft_of(
                session,
                template_id,
                contact_id=query.get("contact") or None,
                language=query.get("language") or None,
            )
    except NotFound as exc:
        return _frame({"problems": [Problem("error", "template", str(exc))], "parts": {}})
    return _frame(preview_of(services, draft))


@router.post("/messages/{template_id}/frame")
async def frame_draft(
    request: Request, template_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """The posted draft's HTML as it will arrive, for the preview frame."""
    form = await checked_form(request, user, "read")
    draft, problems = await run_in_threadpool(_draft, request, template_id, form)
    if draft is None:
        return _frame({"problems": problems, "parts": {}})
    return _frame(await run_in_threadpool(preview_of, services_of(request), draft))


@router.get("/messages/{template_id}/contacts", response_class=HTMLResponse)
def preview_contacts(
    request: Request, template_id: str, user: SignedIn = Depends(signed_in)
) -> HTMLResponse:
    """The contacts to preview for that match the search (the select's options)."""
    query = dict(request.query_params)
    choices = contact_choices(
        services_of(request), query.get("contact_q", ""), query.get("contact") or None
    )
    return render(request, "_message_contacts.html", user=user, choices=choices)


@router.post("/messages/{template_id}/test-send", response_class=HTMLResponse)
async def send_test_message(
    request: Request, template_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Send the draft, marked as a test, to the address typed (audited; not counted)."""
    form = await checked_form(request, user, EDIT)
    draft, problems = await run_in_threadpool(_draft, request, template_id, form)
    to = str(form.get("to", ""))
    outcome: dict[str, Any] = {"to": to.strip()}
    if draft is None:
        outcome["problem"] = f"fix the template first: {problems[0]}"
    else:
        try:
            sent = await run_in_threadpool(send_test_email, services_of(request), user, draft, to)
        except LealtaError as exc:
            outcome["problem"] = str(exc)
        else:
            outcome["sent"] = sent
    status = 400 if "problem" in outcome else 200
    return render(request, "_message_test.html", user=user, status=status, **outcome)


# -- helpers -----------------------------------------------------------------------------------


def _fields(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _exists(request: Request, template_id: str) -> bool:
    with services_of(request).uow.transaction() as session:
        return session.get(MessageTemplate, template_id) is not None


def _stored(request: Request, template_id: str) -> tuple[str, dict[str, Any], int]:
    with services_of(request).uow.transaction() as session:
        row = service.get(session, template_id)
        return row.channel, dict(row.body), row.version


def _with_languages(body: dict[str, Any], codes: list[str]) -> dict[str, Any]:
    """``body`` with an empty variant for each language being added (so its tab shows)."""
    variants = dict(body.get("variants") or {})
    for code in codes:
        variants.setdefault(code, {})
    return {**body, "variants": variants} if variants else body


def _draft(
    request: Request, template_id: str, form: FormData
) -> tuple[Draft | None, list[Problem]]:
    """The posted draft for the preview or a test, or the problems that stop it."""
    services = services_of(request)
    fields = _fields(form)
    try:
        with services.uow.transaction() as session:
            row = session.get(MessageTemplate, template_id)
            channel = normalize_channel(row.channel if row else fields.get("channel", "email"))
            stored = dict(row.body) if row else {}
            codes = [str(c) for c in form.getlist("languages")]
            body = body_from_form(channel, fields, codes, stored)
            draft = draft_of(
                session,
                template_id,
                channel=channel,
                body=body,
                contact_id=fields.get("contact") or None,
                language=fields.get("language") or None,
            )
    except LealtaError as exc:
        return None, problems_of(exc)
    return draft, []


def _frame(preview: dict[str, Any]) -> Response:
    return HTMLResponse(frame_html(preview), headers=FRAME_HEADERS)
