"""The settings page (admins): API keys, console users, channels, the latest changes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from lealta.console.auth import SignedIn, signed_in
from lealta.console.rendering import checked_form, render, require, services_of
from lealta.console.settings_page import end_key, new_key, settings_context
from lealta.errors import LealtaError

router = APIRouter(include_in_schema=False)


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """API keys, console users, channels and the latest changes (admins)."""
    require(user, "manage_keys", "open the settings")
    return render(request, "settings.html", user=user, **settings_context(services_of(request)))


@router.post("/settings/keys", response_class=HTMLResponse)
async def create_key_page(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """Create an API key and show it this once."""
    form = await checked_form(request, user, "manage_keys")
    services = services_of(request)
    scope, name = str(form.get("scope", "")), str(form.get("name", ""))
    try:
        issued = await run_in_threadpool(new_key, services, user, scope=scope, name=name)
    except LealtaError as problem:
        context = await run_in_threadpool(settings_context, services)
        return render(
            request, "settings.html", user=user, status=400, problem=str(problem), **context
        )
    context = await run_in_threadpool(settings_context, services, issued=issued)
    return render(request, "settings.html", user=user, **context)


@router.post("/settings/keys/{key_id}/revoke")
async def revoke_key_page(
    request: Request, key_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Revoke an API key."""
    await checked_form(request, user, "manage_keys")
    await run_in_threadpool(end_key, services_of(request), user, key_id)
    return RedirectResponse("/settings", 303)
