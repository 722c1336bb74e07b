"""Signing in and out: the sign-in form (double-submit token), the throttle on failures, and
the session cookie."""

from __future__ import annotations

import secrets
import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lealta.console.auth import COOKIE, SignedIn, codec, safe_next, session_user, signed_in
from lealta.console.rendering import checked_form, render, secure_cookies, services_of
from lealta.console.throttle import SignInThrottle
from lealta.users.service import authenticate, record

router = APIRouter(include_in_schema=False)
SIGNIN_COOKIE = "lealta_signin"  # double-submit token of the sign-in form (no session yet)


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, next: str = "/") -> Response:
    """The sign-in form (straight to ``next`` when already signed in)."""
    session = codec(request).read(request.cookies.get(COOKIE), now=time.time())
    if session_user(services_of(request), session) is not None:
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
        secure=secure_cookies(request),
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
    services = services_of(request)
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
        secure=secure_cookies(request),
        max_age=codec(request).lifetime,
        path="/",
    )
    answer.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return answer


@router.post("/signout")
async def signout(request: Request, user: SignedIn = Depends(signed_in)) -> Response:
    """End this browser's session."""
    await checked_form(request, user, "read")
    answer = RedirectResponse("/signin", 303)
    answer.delete_cookie(COOKIE, path="/")
    return answer
