"""The console's pages and how they are served: ``install(app)`` adds them to the API's app."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from lealta import __version__
from lealta.bootstrap import Services
from lealta.console import filters
from lealta.console.auth import (
    COOKIE,
    Refused,
    SignedIn,
    SignInRequired,
    check_change,
    codec,
    safe_next,
    session_user,
    signed_in,
    signin_url,
)
from lealta.console.contacts_page import contacts_context
from lealta.console.edits import change_tag, erase, export_document
from lealta.console.overview_page import overview_context
from lealta.console.profile_page import profile_context
from lealta.console.sessions import SessionCodec
from lealta.console.settings_page import end_key, new_key, settings_context
from lealta.console.throttle import SignInThrottle
from lealta.errors import LealtaError
from lealta.users.service import authenticate, record

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
SIGNIN_COOKIE = "lealta_signin"  # double-submit token of the sign-in form (no session yet)

_env = Environment(
    loader=PackageLoader("lealta.console", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
filters.register(_env)

# The console loads nothing from elsewhere, runs no inline script, and is never framed.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


async def _checked_form(request: Request, user: SignedIn, permission: str) -> FormData:
    """The posted form, once its CSRF token and the user's ``permission`` are checked."""
    form = await request.form()
    check_change(user, str(form.get("csrf", "")), permission)
    return form


def _services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def _secure(request: Request) -> bool:
    settings = _services(request).settings
    return settings.environment == "production" or settings.public_url.startswith("https:")


def render(
    request: Request, template: str, *, user: SignedIn | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """A console page: ``template`` with the user, the version and ``context``."""
    html = _env.get_template(template).render(
        request=request, user=user, version=__version__, path=request.url.path, **context
    )
    return HTMLResponse(html, status, headers=HEADERS)


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, next: str = "/") -> Response:
    """The sign-in form (straight to ``next`` when already signed in)."""
    session = codec(request).read(request.cookies.get(COOKIE), now=time.time())
    if session_user(_services(request), session) is not None:
        return RedirectResponse(safe_next(next), 303)
    return _signin_form(request, next=safe_next(next))


def _signin_form(
    request: Request, *, next: str, error: str = "", email: str = "", status: int = 200
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    answer = render(
        request,
        "signin.html",
        user=None,
        status=status,
        next=next,
        error=error,
        email=email,
        token=token,
    )
    answer.set_cookie(
        SIGNIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        max_age=3600,
        path="/signin",
    )
    return answer


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request) -> Response:
    """Check the e-mail and password; on success start a session and go on to ``next``."""
    form = await request.form()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "/")))
    sent, expected = str(form.get("token", "")), request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        return _signin_form(
            request,
            next=target,
            email=email,
            status=403,
            error="The sign-in form had expired. Please try again.",
        )
    throttle: SignInThrottle = request.app.state.signin_throttle
    client = request.client.host if request.client else "?"
    keys = (f"email:{email.strip().lower()}", f"ip:{client}")
    now = time.time()
    wait = throttle.wait(keys, now=now)
    if wait:
        minutes = max(1, round(wait / 60))
        return _signin_form(
            request,
            next=target,
            email=email,
            status=429,
            error=f"Too many failed attempts. Try again in about {minutes} minute(s).",
        )
    services = _services(request)
    with services.uow.transaction() as db:
        user = authenticate(db, email=email, password=password, now=services.clock.now())
        if user is not None:
            record(db, user=user, action="signed in", now=services.clock.now())
            cookie, _session = codec(request).issue(user.id, user.session_epoch, now=now)
    if user is None:
        throttle.failed(keys, now=now)
        return _signin_form(
            request,
            next=target,
            email=email,
            status=401,
            error="That e-mail and password do not match an active console user.",
        )
    throttle.succeeded(keys)
    answer = RedirectResponse(target, 303)
    answer.set_cookie(
        COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        max_age=codec(request).lifetime,
        path="/",
    )
    answer.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return answer


@router.post("/signout")
async def signout(request: Request, user: SignedIn = Depends(signed_in)) -> Response:
    """End this browser's session."""
    await _checked_form(request, user, "read")
    answer = RedirectResponse("/signin", 303)
    answer.delete_cookie(COOKIE, path="/")
    return answer


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """The landing page: the figures that matter, each linked to the people behind it."""
    services = _services(request)
    return render(request, "overview.html", user=user, **overview_context(services))


def install(app: FastAPI, services: Services) -> None:
    """Add the console to ``app``: pages, static files, sessions and their error answers."""
    app.state.console_sessions = SessionCodec(services.settings.secret_key)
    app.state.signin_throttle = SignInThrottle()
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": signin_url(exc.next_path)})
        return RedirectResponse(signin_url(exc.next_path), 303)

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        return render(request, "refused.html", user=None, status=403, reason=str(exc))


@router.get("/contacts", response_class=HTMLResponse)
def contacts(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """Contacts, searched and filtered like ``GET /v1/contacts``, a page at a time."""
    context = contacts_context(_services(request), dict(request.query_params))
    return render(request, "contacts.html", user=user, **context)


@router.get("/contacts/{contact_id}", response_class=HTMLResponse)
def contact_page(
    request: Request, contact_id: str, user: SignedIn = Depends(signed_in)
) -> HTMLResponse:
    """One person: profile, consent, tags and lists, workflows, and their timeline."""
    context = profile_context(_services(request), contact_id, dict(request.query_params))
    status = 404 if context["problem"] else 200
    return render(request, "contact.html", user=user, status=status, **context)


@router.post("/contacts/{contact_id}/tags")
async def tag_contact(
    request: Request, contact_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Add (``action=add``) or remove (``action=remove``) a tag, then back to the contact."""
    form = await _checked_form(request, user, "edit_contacts")
    add = str(form.get("action", "add")) != "remove"
    tag = str(form.get("tag", ""))
    await run_in_threadpool(change_tag, _services(request), user, contact_id, tag, add=add)
    return RedirectResponse(f"/contacts/{quote(contact_id, safe='')}", 303)


def _admin(user: SignedIn) -> None:
    if not user.can("manage_keys"):
        raise Refused(f"only an admin can open the settings; you are a {user.role}")


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """API keys, console users, channels and the latest changes (admins)."""
    _admin(user)
    return render(request, "settings.html", user=user, **settings_context(_services(request)))


@router.post("/settings/keys", response_class=HTMLResponse)
async def create_key_page(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """Create an API key and show it this once."""
    form = await _checked_form(request, user, "manage_keys")
    services = _services(request)
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
    await _checked_form(request, user, "manage_keys")
    await run_in_threadpool(end_key, _services(request), user, key_id)
    return RedirectResponse("/settings", 303)


@router.get("/contacts/{contact_id}/export")
def export_page(request: Request, contact_id: str, user: SignedIn = Depends(signed_in)) -> Response:
    """Download everything held on the person (admins; the download is audited)."""
    if not user.can("export"):
        raise Refused(f"only an admin can export a person's data; you are a {user.role}")
    document = export_document(_services(request), user, contact_id)
    name = f"lealta-contact-{document['contact']['id']}.json"
    return Response(
        orjson.dumps(document, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"', **HEADERS},
    )


ERASE_WORD = "ERASE"


@router.post("/contacts/{contact_id}/erase", response_class=HTMLResponse)
async def erase_page(
    request: Request, contact_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Erase the person once the admin has typed the confirmation word."""
    form = await _checked_form(request, user, "erase")
    if str(form.get("confirm", "")).strip() != ERASE_WORD:
        target = f"/contacts/{quote(contact_id, safe='')}?erase=unconfirmed"
        return RedirectResponse(target, 303)
    done = await run_in_threadpool(erase, _services(request), user, contact_id)
    return render(request, "erased.html", user=user, done=done)
