"""Sign-up forms: plain HTML forms post here (no JavaScript needed); admins define them.

A submission is authenticated by the write key in the hidden ``_key`` field (or ``?key=``).
Browsers are redirected back (``303``, ``?lealta=ok`` or ``?lealta=error&field=…``); clients
asking for JSON get ``{"ok": true, "status": …}`` or the usual error body.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from lealta.bootstrap import Services
from lealta.errors import InvalidInput
from lealta.forms import service
from lealta.forms.embed import form_html
from lealta.forms.schemas import ConfirmAnswer, FormIn, FormOut, SubmitAnswer
from lealta.forms.tables import Form
from lealta.keys.service import verify_key
from lealta.rest.auth import Caller, authenticate, require_admin, services
from lealta.rest.errors import ApiError
from lealta.storage.retry import in_transaction

router = APIRouter(prefix="/v1/forms", tags=["forms"])

MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 200
ANONYMOUS_COOKIE = "lealta_aid"


# -- management (admin) ------------------------------------------------------------------------


def _out(session: Session, form: Form, request: Request) -> FormOut:
    return FormOut(
        slug=form.slug,
        name=form.name,
        list_slug=service.list_slug(session, form),
        double_opt_in=form.double_opt_in,
        consent_channels=list(form.consent_channels),
        redirect_url=form.redirect_url,
        created_at=_aware(form.created_at),
        action=_action(request, form.slug),
    )


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite drops the zone


def _action(request: Request, slug: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/v1/forms/{slug}"


@router.post("", status_code=201, response_model=FormOut)
def create_form(
    body: FormIn, request: Request, _caller: Caller = Depends(require_admin)
) -> FormOut:
    """Define a sign-up form (409 if the slug is taken); its list is created when missing."""
    found = services(request)

    def work(session: Session) -> FormOut:
        form = service.create(
            session,
            slug=body.slug,
            name=body.name,
            list_slug=body.list_slug,
            double_opt_in=body.double_opt_in,
            consent_channels=body.consent_channels,
            redirect_url=body.redirect_url,
            now=found.clock.now(),
        )
        return _out(session, form, request)

    return in_transaction(found.uow, work, attempts=1)


@router.get("", response_model=list[FormOut])
def list_forms(request: Request, _caller: Caller = Depends(require_admin)) -> list[FormOut]:
    """Every sign-up form."""
    with services(request).uow.transaction() as session:
        return [_out(session, form, request) for form in service.list_(session)]


@router.get("/{slug}", response_model=FormOut)
def get_form(slug: str, request: Request, _caller: Caller = Depends(require_admin)) -> FormOut:
    """One sign-up form."""
    with services(request).uow.transaction() as session:
        return _out(session, service.get(session, slug), request)


@router.get("/{slug}/embed", response_class=HTMLResponse)
def embed_form(
    slug: str,
    request: Request,
    key: str | None = Query(
        None, description="A *track* key to put in the form (it is public in the page)."
    ),
    _caller: Caller = Depends(require_admin),
) -> HTMLResponse:
    """Ready-to-paste HTML of the form; it works without JavaScript."""
    with services(request).uow.transaction() as session:
        form = service.get(session, slug)
        if key is not None:
            row = verify_key(session, key)
            if row is None or row.scope != "track":
                raise InvalidInput(
                    "key must be a live track key: admin keys must never be put in a page",
                    field="key",
                )
        markup = form_html(
            action=_action(request, slug),
            slug=form.slug,
            name=form.name,
            consent_channels=form.consent_channels,
            write_key=key,
        )
    return HTMLResponse(markup)


# -- submissions (write key) -------------------------------------------------------------------


async def _fields(request: Request) -> dict[str, str]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise ApiError(
            413, "too_large", f"a form may send at most {MAX_FORM_BYTES:,} bytes", field="body"
        )
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"the body is not valid JSON ({exc})", field="body") from None
        if not isinstance(body, dict):
            raise InvalidInput("the body must be a JSON object", field="body")
        return {str(k): str(v) for k, v in body.items() if isinstance(v, str | int | float | bool)}
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    return {name: value for name, value in form.multi_items() if isinstance(value, str)}


def _wants_json(request: Request) -> bool:
    if request.headers.get("content-type", "").startswith("application/json"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _back_to(target: str | None, **params: str) -> str | None:
    """``target`` with ``params`` in its query, or ``None`` when it is not an http(s) URL."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _visitor(request: Request) -> service.Visitor:
    cookie = request.cookies.get(ANONYMOUS_COOKIE)
    return service.Visitor(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        page=request.headers.get("referer"),
        anonymous_id=cookie if cookie and len(cookie) <= 128 else None,
    )


def _page(title: str, text: str, status: int = 200) -> HTMLResponse:
    body = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return HTMLResponse(body, status)


@router.post(
    "/{slug}",
    response_model=SubmitAnswer,
    responses={303: {"description": "Browsers: back to the form's page with ?lealta=ok"}},
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "_key": {"type": "string", "description": "The write key."},
                            "email": {"type": "string", "description": "Required unless phone."},
                            "phone": {"type": "string"},
                            "first_name": {"type": "string"},
                            "last_name": {"type": "string"},
                            "consent_email": {"type": "string", "enum": ["on"]},
                            "_hp": {"type": "string", "description": "Honeypot: leave empty."},
                        },
                        "additionalProperties": {"type": "string"},
                    }
                }
            }
        }
    },
)
async def submit_form(slug: str, request: Request) -> Response:
    """Sign up from a plain HTML form: identify the person, subscribe them, record consent.

    Any other field becomes a trait (``_``-prefixed ones excepted). With double opt-in the
    subscription and consents stay ``pending`` until confirmed.
    """
    fields = await _fields(request)
    authenticate(
        request, fields.get("_key") or request.query_params.get("key"), scopes=("track", "admin")
    )
    found = services(request)
    target = await run_in_threadpool(_redirect_url, found, slug) or request.headers.get("referer")
    visitor = _visitor(request)
    settings = found.settings

    def work(session: Session) -> service.Submitted:
        return service.submit(
            session,
            service.get(session, slug),
            fields,
            visitor=visitor,
            now=found.clock.now(),
            secret=settings.secret_key,
            region=settings.default_phone_region,
        )

    try:
        outcome = await run_in_threadpool(in_transaction, found.uow, work)
    except InvalidInput as error:
        back = _back_to(target, lealta="error", field=error.field or "")
        if _wants_json(request) or back is None:
            raise
        return RedirectResponse(back, 303)
    _notify(request)
    if _wants_json(request):
        return JSONResponse({"ok": True, "status": outcome.status})
    back = _back_to(target, lealta="ok")
    if back is not None:
        return RedirectResponse(back, 303)
    if outcome.status == "pending":
        return _page("Almost there", "Please confirm your subscription with the link we sent you.")
    return _page("Thank you", "You are signed up.")


def _redirect_url(found: Services, slug: str) -> str | None:
    with found.uow.transaction() as session:
        return service.get(session, slug).redirect_url


def _notify(request: Request) -> None:
    processor: Any = request.app.state.processor
    if processor is not None:
        processor.notify()


@router.get(
    "/{slug}/confirm",
    response_model=ConfirmAnswer,
    responses={303: {"description": "Browsers: to the form's redirect URL, ?lealta=confirmed"}},
)
def confirm_form(
    slug: str,
    request: Request,
    token: str = Query(max_length=300, description="The signed token from the confirmation link."),
) -> Response:
    """Confirm a double opt-in: the pending subscription and consents become active."""
    found = services(request)
    visitor = _visitor(request)

    def work(session: Session) -> tuple[str, str | None]:
        form = service.get(session, slug)
        status = service.confirm(
            session,
            form,
            token,
            visitor=visitor,
            now=found.clock.now(),
            secret=found.settings.secret_key,
        )
        return status, form.redirect_url

    try:
        status, redirect_url = in_transaction(found.uow, work)
    except InvalidInput as error:
        if _wants_json(request):
            raise
        return _page("Link not valid", f"{error} Please sign up again.", 400)
    _notify(request)
    if _wants_json(request):
        return JSONResponse({"ok": True, "status": status})
    back = _back_to(redirect_url, lealta="confirmed")
    if back is not None and status == "subscribed":
        return RedirectResponse(back, 303)
    if status == "subscribed":
        return _page("Subscription confirmed", "Thank you: your subscription is confirmed.")
    return _page("Not subscribed", "You have left this list since; sign up again to rejoin.")
