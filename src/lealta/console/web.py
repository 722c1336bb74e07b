"""The console as part of the API's app: ``install(app, services)`` mounts every area's routes
(:mod:`lealta.console.routes`), the static files, the sessions and the answers to a signed-out
or refused request."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from lealta.bootstrap import Services
from lealta.console.auth import Refused, SignInRequired, signin_url
from lealta.console.rendering import render
from lealta.console.routes import (
    affinity,
    audiences,
    contacts,
    jobs,
    journey_edit,
    journeys,
    loyalty,
    messages,
    overview,
    reports,
    segments,
    settings,
    signin,
)
from lealta.console.sessions import SessionCodec
from lealta.console.throttle import SignInThrottle

STATIC = Path(__file__).parent / "static"
AREAS = (
    signin,
    overview,
    contacts,
    segments,
    audiences,
    affinity,
    loyalty,
    jobs,
    journeys,
    journey_edit,
    messages,
    reports,
    settings,
)


def install(app: FastAPI, services: Services) -> None:
    """Add the console to ``app``: pages, static files, sessions and their error answers."""
    app.state.console_sessions = SessionCodec(services.settings.secret_key)
    app.state.signin_throttle = SignInThrottle()
    for area in AREAS:
        app.include_router(area.router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": signin_url(exc.next_path)})
        return RedirectResponse(signin_url(exc.next_path), 303)

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        return render(request, "refused.html", user=None, status=403, reason=str(exc))
