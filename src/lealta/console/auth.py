"""Who is signed in to the console, what they may do, and the checks on every change.

Signed-out requests to console pages are sent to the sign-in page; a change (POST) must carry
the session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``) and the permission its
role holds, else 403.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request

from lealta.bootstrap import Services
from lealta.console.sessions import ConsoleSession, SessionCodec
from lealta.users.roles import can
from lealta.users.tables import ConsoleUser

COOKIE = "lealta_session"


@dataclass(frozen=True)
class SignedIn:
    """The console user behind a request."""

    user_id: str
    email: str
    role: str
    csrf: str

    def can(self, permission: str) -> bool:
        """True when this user's role holds ``permission`` (see :mod:`lealta.users.roles`)."""
        return can(self.role, permission)


class SignInRequired(Exception):
    """No valid session: the answer is a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Refused(Exception):
    """403: a missing CSRF token, or a role without the permission."""


def codec(request: Request) -> SessionCodec:
    """The app's session codec."""
    found: SessionCodec = request.app.state.console_sessions
    return found


def signin_url(next_path: str) -> str:
    """The sign-in page, returning to ``next_path`` afterwards."""
    return "/signin" if next_path in ("", "/") else f"/signin?next={quote(next_path, safe='')}"


def session_user(services: Services, session: ConsoleSession | None) -> SignedIn | None:
    """The enabled user a valid session belongs to (``None`` when ended by reset or disable)."""
    if session is None:
        return None
    with services.uow.transaction() as db:
        user = db.get(ConsoleUser, session.user_id)
        if user is None or user.disabled_at is not None or user.session_epoch != session.epoch:
            return None
        return SignedIn(user.id, user.email, user.role, session.csrf)


def signed_in(request: Request) -> SignedIn:
    """Dependency: the signed-in user, or a redirect to the sign-in page."""
    session = codec(request).read(request.cookies.get(COOKIE), now=time.time())
    user = session_user(request.app.state.services, session)
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(path)
    return user


def check_change(user: SignedIn, token: str | None, permission: str) -> None:
    """Refuse a change without this session's CSRF token or without ``permission``."""
    if not token or not hmac.compare_digest(token.encode(), user.csrf.encode()):
        raise Refused("this form has expired or did not come from Lealta: reload and try again")
    if not user.can(permission):
        raise Refused(f"a {user.role} cannot do this")


def safe_next(path: str | None) -> str:
    """A local path to go to after signing in (never another site)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path
