"""The contact list, one person's page, and the changes made there (tags, export, erasure)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from lealta.console.auth import SignedIn, signed_in
from lealta.console.contacts_page import contacts_context
from lealta.console.edits import (
    change_attribute,
    change_consent,
    change_list,
    change_tag,
    erase,
    export_document,
)
from lealta.console.profile_page import profile_context
from lealta.console.rendering import HEADERS, checked_form, render, require, services_of
from lealta.errors import LealtaError

router = APIRouter(include_in_schema=False)
ERASE_WORD = "ERASE"


@router.get("/contacts", response_class=HTMLResponse)
def contacts(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """Contacts, searched and filtered like ``GET /v1/contacts``, a page at a time."""
    context = contacts_context(services_of(request), dict(request.query_params))
    return render(request, "contacts.html", user=user, **context)


@router.get("/contacts/{contact_id}", response_class=HTMLResponse)
def contact_page(
    request: Request, contact_id: str, user: SignedIn = Depends(signed_in)
) -> HTMLResponse:
    """One person: profile, consent, tags and lists, workflows, and their timeline."""
    context = profile_context(services_of(request), contact_id, dict(request.query_params))
    return render(request, "contact.html", user=user, status=context.pop("status"), **context)


def back_to(contact_id: str, section: str = "") -> RedirectResponse:
    """Back to the contact's page (at ``section``) after a change."""
    anchor = f"#{section}" if section else ""
    return RedirectResponse(f"/contacts/{quote(contact_id, safe='')}{anchor}", 303)


async def _change(
    request: Request,
    user: SignedIn,
    contact_id: str,
    section: str,
    change: Callable[[], object],
    typed: dict[str, str],
) -> Response:
    """Make ``change`` and go back to the contact; a refused change (a bad value, an unknown
    list …) shows the page again with the reason beside the form (400) and what was typed."""
    try:
        await run_in_threadpool(change)
    except LealtaError as problem:
        services = services_of(request)
        context = await run_in_threadpool(
            profile_context,
            services,
            contact_id,
            {},
            edit_section=section,
            edit_problem=str(problem),
            typed=typed,
        )
        return render(request, "contact.html", user=user, status=context.pop("status"), **context)
    return back_to(contact_id, section)


@router.post("/contacts/{contact_id}/tags")
async def tag_contact(
    request: Request, contact_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Add (``action=add``) or remove (``action=remove``) a tag, then back to the contact."""
    form = await checked_form(request, user, "edit_contacts")
    add = str(form.get("action", "add")) != "remove"
    tag = str(form.get("tag", ""))
    services = services_of(request)
    return await _change(
        request,
        user,
        contact_id,
        "tags",
        lambda: change_tag(services, user, contact_id, tag, add=add),
        {"tag": tag},
    )


@router.post("/contacts/{contact_id}/consent")
async def consent_contact(
    request: Request, contact_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Grant (``action=grant``) or withdraw (``action=withdraw``) consent for ``channel``."""
    form = await checked_form(request, user, "edit_contacts")
    channel = str(form.get("channel", ""))
    grant = str(form.get("action", "")) == "grant"
    services = services_of(request)
    return await _change(
        request,
        user,
        contact_id,
        "consent",
        lambda: change_consent(services, user, contact_id, channel, grant=grant),
        {},
    )


@router.post("/contacts/{contact_id}/lists")
async def list_contact(
    request: Request, contact_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Subscribe to (``action=join``) or unsubscribe from (``action=leave``) list ``list``."""
    form = await checked_form(request, user, "edit_contacts")
    slug = str(form.get("list", ""))
    join = str(form.get("action", "join")) != "leave"
    services = services_of(request)
    return await _change(
        request,
        user,
        contact_id,
        "lists",
        lambda: change_list(services, user, contact_id, slug, join=join),
        {"list": slug},
    )


@router.post("/contacts/{contact_id}/attributes")
async def attribute_contact(
    request: Request, contact_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Set attribute ``name`` to ``value`` (``action=set``) or remove it (``action=remove``)."""
    form = await checked_form(request, user, "edit_contacts")
    name = str(form.get("name", ""))
    value = str(form.get("value", ""))
    remove = str(form.get("action", "set")) == "remove"
    services = services_of(request)
    return await _change(
        request,
        user,
        contact_id,
        "attributes",
        lambda: change_attribute(services, user, contact_id, name, None if remove else value),
        {"name": name, "value": value},
    )


@router.get("/contacts/{contact_id}/export")
def export_page(request: Request, contact_id: str, user: SignedIn = Depends(signed_in)) -> Response:
    """Download everything held on the person (admins; the download is audited)."""
    require(user, "export", "export a person's data")
    document = export_document(services_of(request), user, contact_id)
    name = f"lealta-contact-{document['contact']['id']}.json"
    return Response(
        orjson.dumps(document, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"', **HEADERS},
    )


@router.post("/contacts/{contact_id}/erase", response_class=HTMLResponse)
async def erase_page(
    request: Request, contact_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Erase the person once the admin has typed the confirmation word."""
    form = await checked_form(request, user, "erase")
    if str(form.get("confirm", "")).strip() != ERASE_WORD:
        target = f"/contacts/{quote(contact_id, safe='')}?erase=unconfirmed"
        return RedirectResponse(target, 303)
    done = await run_in_threadpool(erase, services_of(request), user, contact_id)
    return render(request, "erased.html", user=user, done=done)
