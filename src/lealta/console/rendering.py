"""How a console page is answered: the Jinja2 environment, the security headers every page
carries, and the checks shared by the route modules (services, CSRF-checked forms, admins)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData

from lealta import __version__
from lealta.bootstrap import Services
from lealta.console import filters
from lealta.console.auth import Refused, SignedIn, check_change
from lealta.users.roles import PERMISSIONS

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


def services_of(request: Request) -> Services:
    """The app's services (state store, clock, settings)."""
    found: Services = request.app.state.services
    return found


def secure_cookies(request: Request) -> bool:
    """Whether cookies must be ``Secure``: in production, or behind an https public URL."""
    settings = services_of(request).settings
    return settings.environment == "production" or settings.public_url.startswith("https:")


async def checked_form(request: Request, user: SignedIn, permission: str) -> FormData:
    """The posted form, once its CSRF token and the user's ``permission`` are checked."""
    form = await request.form()
    check_change(user, str(form.get("csrf", "")), permission)
    return form


def require(user: SignedIn, permission: str, doing: str) -> None:
    """Refuse (403) a page to a user whose role lacks ``permission``; ``doing`` says what."""
    if not user.can(permission):
        least = PERMISSIONS.get(permission, "admin")
        who = "an admin" if least == "admin" else f"a {least} or an admin"
        raise Refused(f"only {who} can {doing}; you are a {user.role}")


def render(
    request: Request, template: str, *, user: SignedIn | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """A console page (or an htmx fragment): ``template`` with the user, the version and
    ``context``."""
    html = _env.get_template(template).render(
        request=request, user=user, version=__version__, path=request.url.path, **context
    )
    return HTMLResponse(html, status, headers=HEADERS)
