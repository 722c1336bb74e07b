"""The contact list, one person's page, and the changes made there (tags, export, erasure)."""

from __future__ import annotations

from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from lealta.console.auth import SignedIn, signed_in
from lealta.console.contacts_page import contacts_context
from lealta.console.edits import change_tag, erase, export_document
from lealta.console.profile_page import profile_context
from lealta.console.rendering import HEADERS, checked_form, render, require, services_of

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
    status = 404 if context["problem"] else 200
    return render(request, "contact.html", user=user, status=status, **context)


def back_to(contact_id: str) -> RedirectResponse:
    """Back to the contact's page after a change."""
    return RedirectResponse(f"/contacts/{quote(contact_id, safe='')}", 303)


@router.post("/contacts/{contact_id}/tags")
async def tag_contact(
    request: Request, contact_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Add (``action=add``) or remove (``action=remove``) a tag, then back to the contact."""
    form = await checked_form(request, user, "edit_contacts")
    add = str(form.get("action", "add")) != "remove"
    tag = str(form.get("tag", ""))
    await run_in_threadpool(change_tag, services_of(request), user, contact_id, tag, add=add)
    return back_to(contact_id)


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
