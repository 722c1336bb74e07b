"""The settings pages (admins): API keys, console users, channels, and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from lealta.console.audit_page import audit_context
from lealta.console.auth import SignedIn, signed_in
from lealta.console.rendering import checked_form, render, require, services_of
from lealta.console.settings_page import (
    change_role,
    end_key,
    new_key,
    new_password,
    new_user,
    settings_context,
    switch_user,
)
from lealta.errors import Conflict, LealtaError, NotFound

router = APIRouter(include_in_schema=False)


def _status(problem: LealtaError) -> int:
    if isinstance(problem, NotFound):
        return 404
    return 409 if isinstance(problem, Conflict) else 400


async def _answer(
    request: Request,
    user: SignedIn,
    change: Callable[[], Any],
    shown: Callable[[Any], dict[str, Any]],
) -> HTMLResponse:
    """Make ``change``; show the settings with what it gave (``shown``) or why it was refused."""
    services = services_of(request)
    try:
        done = await run_in_threadpool(change)
    except LealtaError as problem:
        context = await run_in_threadpool(settings_context, services, problem=str(problem))
        return render(request, "settings.html", user=user, status=_status(problem), **context)
    context = await run_in_threadpool(settings_context, services, **shown(done))
    return render(request, "settings.html", user=user, **context)


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """API keys, console users, channels and the latest changes (admins)."""
    require(user, "manage_keys", "open the settings")
    return render(request, "settings.html", user=user, **settings_context(services_of(request)))


@router.get("/settings/audit", response_class=HTMLResponse)
def audit_page(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """Who changed what, newest first, by user and action (admins)."""
    require(user, "read_audit", "read the audit log")
    context = audit_context(services_of(request), dict(request.query_params))
    return render(
        request, "audit.html", user=user, status=400 if context["problem"] else 200, **context
    )


@router.post("/settings/keys", response_class=HTMLResponse)
async def create_key_page(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """Create an API key and show it this once."""
    form = await checked_form(request, user, "manage_keys")
    scope, name = str(form.get("scope", "")), str(form.get("name", ""))
    services = services_of(request)
    return await _answer(
        request,
        user,
        lambda: new_key(services, user, scope=scope, name=name),
        lambda issued: {"issued": issued},
    )


@router.post("/settings/keys/{key_id}/revoke")
async def revoke_key_page(
    request: Request, key_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Revoke an API key."""
    await checked_form(request, user, "manage_keys")
    await run_in_threadpool(end_key, services_of(request), user, key_id)
    return RedirectResponse("/settings", 303)


@router.post("/settings/users", response_class=HTMLResponse)
async def create_user_page(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """Create a console user; a generated password is shown this once."""
    form = await checked_form(request, user, "manage_users")
    services = services_of(request)
    fields = {k: str(form.get(k, "")) for k in ("email", "role", "password", "password_again")}
    return await _answer(
        request,
        user,
        lambda: new_user(
            services,
            user,
            email=fields["email"],
            role=fields["role"],
            typed=fields["password"],
            again=fields["password_again"],
        ),
        lambda shown: {
            "password": shown,
            "notice": f"{shown.email} can now sign in as a {fields['role']}.",
        },
    )


@router.post("/settings/users/{who}/role", response_class=HTMLResponse)
async def role_page(
    request: Request, who: str, user: SignedIn = Depends(signed_in)
) -> HTMLResponse:
    """Give a console user another role."""
    form = await checked_form(request, user, "manage_users")
    role, services = str(form.get("role", "")), services_of(request)
    return await _answer(
        request,
        user,
        lambda: change_role(services, user, who, role),
        lambda words: {"notice": words},
    )


@router.post("/settings/users/{who}/disable", response_class=HTMLResponse)
async def disable_page(
    request: Request, who: str, user: SignedIn = Depends(signed_in)
) -> HTMLResponse:
    """Stop a console user from signing in (their sessions end now)."""
    await checked_form(request, user, "manage_users")
    services = services_of(request)
    return await _answer(
        request,
        user,
        lambda: switch_user(services, user, who, enable=False),
        lambda words: {"notice": words},
    )


@router.post("/settings/users/{who}/enable", response_class=HTMLResponse)
async def enable_page(
    request: Request, who: str, user: SignedIn = Depends(signed_in)
) -> HTMLResponse:
    """Let a disabled console user sign in again."""
    await checked_form(request, user, "manage_users")
    services = services_of(request)
    return await _answer(
        request,
        user,
        lambda: switch_user(services, user, who, enable=True),
        lambda words: {"notice": words},
    )


@router.post("/settings/users/{who}/password", response_class=HTMLResponse)
async def password_page(
    request: Request, who: str, user: SignedIn = Depends(signed_in)
) -> HTMLResponse:
    """Give a console user a new generated password, shown this once; their sessions end."""
    await checked_form(request, user, "manage_users")
    services = services_of(request)
    return await _answer(
        request,
        user,
        lambda: new_password(services, user, who),
        lambda shown: {"password": shown},
    )
