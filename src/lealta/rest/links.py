"""``/l/…``: the public links in messages (no key: the signed token is the credential).

==============================  =============================================================
``GET /l/o/<token>.gif``        1x1 transparent GIF; records an open. Always the GIF, even
                                for a bad token (which records nothing).
``GET /l/c/<token>``            302 to the signed URL; records a click. A tampered or
                                malformed token gets a 400 page, never a redirect.
``GET /l/u/<token>``            Unsubscribe confirmation page with a button (changes nothing).
``POST /l/u/<token>``           Unsubscribes at once, including RFC 8058 one-click
                                (``List-Unsubscribe=One-Click``, no cookie or script needed).
``GET|POST /l/p/<token>``       Preference page: consent per channel, public lists.
``GET /l/s/<token>``            Records a survey answer, thanks, offers a comment form.
``POST /l/s/<token>``           Stores the comment.
==============================  =============================================================

Requests from link scanners, previewers and prefetchers (:mod:`lealta.feedback.bots`) get the
same answers but record nothing; ``GET`` and ``HEAD`` never unsubscribe anybody.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from lealta.bootstrap import Services
from lealta.channels.tables import OutboxMessage
from lealta.errors import InvalidInput, NotFound
from lealta.feedback import preferences as prefs
from lealta.feedback import surveys
from lealta.feedback.bots import is_machine
from lealta.feedback.pages import render
from lealta.feedback.service import record
from lealta.links import Claims, Links
from lealta.rest.auth import services
from lealta.storage.retry import in_transaction

log = logging.getLogger(__name__)
router = APIRouter(prefix="/l", tags=["links"])
T = TypeVar("T")

# A 1x1 GIF89a (42 bytes) whose only pixel is transparent.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_CACHE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
}
PAGE_HEADERS = {**NO_CACHE, "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
WHAT = {
    "email": "e-mails",
    "sms": "text messages",
    "push": "app notifications",
    "webpush": "browser notifications",
    "web_push": "browser notifications",
}
MAX_FORM_BYTES = 16 * 1024


def _links(found: Services) -> Links:
    return Links(found.settings.secret_key, found.settings.base_url)


def _page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(template, **context), status, headers=PAGE_HEADERS)


def _broken(error: InvalidInput) -> HTMLResponse:
    return _page(
        "message.html",
        400,
        title="This link is not valid",
        text=f"{error} Please use the link exactly as it came in our message.",
    )


def _gone() -> HTMLResponse:
    return _page(
        "message.html",
        404,
        title="This link no longer works",
        text="The message or the person it was for is not known here any more.",
    )


def _work(found: Services, work: Callable[[Session], T]) -> T:
    return in_transaction(found.uow, work)


def _proof(request: Request, **extra: Any) -> dict[str, Any]:
    return {
        "ip": request.client.host if request.client else None,
        "user_agent": request.headers.get("user-agent"),
        **extra,
    }


async def _form(request: Request) -> dict[str, list[str]]:
    """The posted fields (url-encoded or multipart), each with all its values."""
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        raise InvalidInput("the form is too large", field="form")
    try:
        form = await request.form(max_files=0, max_fields=100)
    except (AssertionError, ValueError, LookupError) as error:
        raise InvalidInput("the form could not be read", field="form") from error
    fields: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(name, []).append(value)
    return fields


# -- open pixel and click ------------------------------------------------------------------


@router.api_route("/o/{token}.gif", methods=["GET", "HEAD"], include_in_schema=False)
def open_pixel(token: str, request: Request) -> Response:
    """The open pixel: always the GIF; an open is recorded for a valid token."""
    found = services(request)
    if not is_machine(request.method, request.headers):
        try:
            claims = _links(found).read(token, "open")
            _record(found, claims, "opened")
        except InvalidInput:
            pass  # a damaged pixel URL must still draw nothing visible
    return Response(PIXEL, media_type="image/gif", headers=NO_CACHE)


@router.api_route("/c/{token}", methods=["GET", "HEAD"], include_in_schema=False)
def click(token: str, request: Request) -> Response:
    """A tracked link: 302 to the URL it was signed for."""
    found = services(request)
    try:
        claims = _links(found).read(token, "click")
    except InvalidInput as error:
        return _broken(error)
    target = claims.url
    if not isinstance(target, str) or urlsplit(target).scheme not in ("http", "https"):
        return _broken(InvalidInput("the link has no web address", field="token"))
    if not is_machine(request.method, request.headers):
        _record(found, claims, "clicked", url=target)
    return RedirectResponse(target, 302, headers={**NO_CACHE, "Referrer-Policy": "no-referrer"})


def _record(found: Services, claims: Claims, kind: str, *, url: str | None = None) -> None:
    """Record ``kind`` for the token's message; a message deleted since records nothing."""
    outbox_id = claims.outbox_id
    if not isinstance(outbox_id, int):
        return
    now = found.clock.now()
    try:
        _work(found, lambda s: record(s, outbox_id=outbox_id, kind=kind, at=now, url=url))
    except NotFound:
        log.info("link of message %s followed, but the message is gone", outbox_id)


# -- unsubscribe ---------------------------------------------------------------------------


@router.api_route("/u/{token}", methods=["GET", "HEAD"], include_in_schema=False)
def unsubscribe_page(token: str, request: Request) -> Response:
    """Asks for confirmation; following the link never unsubscribes by itself."""
    found = services(request)
    links = _links(found)
    try:
        outbox_id = _outbox_id(links.read(token, "unsub"))
    except InvalidInput as error:
        return _broken(error)

    def look(session: Session) -> tuple[str, str]:
        contact_id = prefs.contact_of(session, outbox_id)
        message = session.get(OutboxMessage, outbox_id)
        assert message is not None
        return message.channel, contact_id

    try:
        channel, contact_id = _work(found, look)
    except NotFound:
        return _gone()
    return _page(
        "unsubscribe.html",
        title="Unsubscribe",
        done=False,
        what=WHAT.get(channel, "messages"),
        action=request.url.path,
        preferences_url=links.preferences(contact_id),
    )


@router.post("/u/{token}", include_in_schema=False)
async def unsubscribe(token: str, request: Request) -> Response:
    """Unsubscribe at once (the page's button, or a mail client's RFC 8058 one-click POST)."""
    found = services(request)
    links = _links(found)
    try:
        outbox_id = _outbox_id(links.read(token, "unsub"))
        fields = await _form(request)
    except InvalidInput as error:
        return _broken(error)
    one_click = "One-Click" in fields.get("List-Unsubscribe", [])
    proof = _proof(request, method="one-click" if one_click else "unsubscribe page")
    now = found.clock.now()

    def work(session: Session) -> tuple[prefs.Unsubscribed, str, str | None]:
        done = prefs.unsubscribe(session, outbox_id=outbox_id, at=now, proof=proof)
        message = session.get(OutboxMessage, outbox_id)
        assert message is not None
        return done, message.channel, _list_name(session, done.list_slug)

    try:
        done, channel, list_name = await run_in_threadpool(_work, found, work)
    except NotFound:
        return _gone()
    return _page(
        "unsubscribe.html",
        title="You are unsubscribed",
        done=True,
        what=WHAT.get(channel, "messages"),
        list_name=list_name,
        preferences_url=links.preferences(done.contact_id),
    )


def _list_name(session: Session, slug: str | None) -> str | None:
    if slug is None:
        return None
    for listed in prefs.public_lists(session):
        if listed.slug == slug:
            return listed.name
    return None  # an internal list: its name is not shown


def _outbox_id(claims: Claims) -> int:
    if not isinstance(claims.outbox_id, int):
        raise InvalidInput("the link is malformed", field="token")
    return claims.outbox_id


# -- preferences -----------------------------------------------------------------------------


@router.api_route("/p/{token}", methods=["GET", "HEAD"], include_in_schema=False)
def preference_page(token: str, request: Request) -> Response:
    """What the person gets from us, as a form."""
    found = services(request)
    try:
        contact_id = _contact_id(_links(found).read(token, "prefs"))
        chosen = _work(found, lambda session: prefs.preferences(session, contact_id))
    except InvalidInput as error:
        return _broken(error)
    except NotFound:
        return _gone()
    return _preferences(chosen, request, saved=False)


@router.post("/p/{token}", include_in_schema=False)
async def save_preferences(token: str, request: Request) -> Response:
    """Keep exactly the ticked channels and lists."""
    found = services(request)
    proof = _proof(request)
    now = found.clock.now()
    try:
        contact_id = _contact_id(_links(found).read(token, "prefs"))
        fields = await _form(request)

        def work(session: Session) -> prefs.Preferences:
            return prefs.change(
                session,
                contact_id,
                channels=fields.get("channel", []),
                lists=fields.get("list", []),
                at=now,
                proof=proof,
            )

        chosen = await run_in_threadpool(_work, found, work)
    except InvalidInput as error:
        return _broken(error)
    except NotFound:
        return _gone()
    return _preferences(chosen, request, saved=True)


def _preferences(chosen: prefs.Preferences, request: Request, *, saved: bool) -> HTMLResponse:
    return _page(
        "preferences.html",
        title="Your preferences",
        saved=saved,
        channels=chosen.channels,
        lists=chosen.lists,
        action=request.url.path,
    )


def _contact_id(claims: Claims) -> str:
    if not isinstance(claims.contact_id, str) or not claims.contact_id:
        raise InvalidInput("the link is malformed", field="token")
    return claims.contact_id


# -- surveys ---------------------------------------------------------------------------------


@router.api_route("/s/{token}", methods=["GET", "HEAD"], include_in_schema=False)
def survey_answer(token: str, request: Request) -> Response:
    """Record the score the link stands for (the latest answer counts) and offer a comment."""
    found = services(request)
    now = found.clock.now()
    try:
        outbox_id, score, survey = _survey(_links(found).read(token, "survey"))
        if is_machine(request.method, request.headers):
            _work(found, lambda session: prefs.contact_of(session, outbox_id))
        else:
            _work(
                found,
                lambda session: surveys.answer(
                    session, outbox_id=outbox_id, score=score, survey=survey, at=now
                ),
            )
    except InvalidInput as error:
        return _broken(error)
    except NotFound:
        return _gone()
    return _survey_page(request, score=score)


@router.post("/s/{token}", include_in_schema=False)
async def survey_comment(token: str, request: Request) -> Response:
    """Store the comment on the answer in force (recording this link's score if none is)."""
    found = services(request)
    now = found.clock.now()
    try:
        outbox_id, score, survey = _survey(_links(found).read(token, "survey"))
        text = _form_value(await _form(request), "comment")

        def work(session: Session) -> surveys.Answer:
            prefs.contact_of(session, outbox_id)
            if surveys.latest_answer(session, outbox_id=outbox_id, survey=survey) is None:
                surveys.answer(session, outbox_id=outbox_id, score=score, survey=survey, at=now)
            return surveys.comment(session, outbox_id=outbox_id, survey=survey, text=text, at=now)

        await run_in_threadpool(_work, found, work)
    except InvalidInput as error:
        if error.field == "comment":
            return _survey_page(request, score=score, status=400, error=str(error))
        return _broken(error)
    except NotFound:
        return _gone()
    return _survey_page(request, score=score, commented=True)


def _survey(claims: Claims) -> tuple[int, int, str]:
    score, survey = claims.score, claims.survey or "nps"
    if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 10:
        raise InvalidInput("the link is malformed", field="token")
    return _outbox_id(claims), score, survey


def _form_value(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name) or [""]
    return values[0]


def _survey_page(
    request: Request,
    *,
    score: int,
    commented: bool = False,
    status: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    title = "Thank you!" if error is None else "Please check your comment"
    return _page(
        "survey.html",
        status,
        title=title,
        score=score,
        commented=commented,
        comment=None,
        error=error,
        action=request.url.path,
        longest=surveys.LONGEST_COMMENT,
    )
