"""On-site messages: placements (admin key) and the slots a page fills (track key).

* ``/v1/onsite/placements…`` (admin, ``Authorization: Bearer``): create or replace
  (``PUT``), read, list, delete, pause and activate placements.
* ``GET /v1/onsite/slots?slots=hero,sidebar&anonymousId=…&userId=…&url=…`` (track key, as
  HTTP Basic user name or ``writeKey`` query parameter): the HTML each slot shows to this
  visitor, with a signed impression URL. Browsers call it across origins: list the shop's
  origin in ``LEALTA_CORS_ORIGINS``.
* ``POST /v1/onsite/impressions?token=…`` (track key; ``writeKey`` may come in a JSON body,
  sent as ``text/plain`` so browsers need no preflight): the content was seen.
* ``GET /v1/onsite/click/<token>``: a placement's tracked link; records the click and
  redirects. No key: the signature is the proof.
* ``GET /onsite.js``: the script that fills ``data-lealta-slot`` elements.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from lealta.bootstrap import Services
from lealta.errors import InvalidInput
from lealta.onsite import interactions, service
from lealta.onsite.audience import parse
from lealta.onsite.schemas import PlacementIn, PlacementOut
from lealta.onsite.tables import OnsitePlacement
from lealta.rest.auth import authenticate, key_from_headers, require_admin, services
from lealta.rest.errors import ApiError
from lealta.storage.retry import in_transaction
from lealta.tracking.intake import enqueue
from lealta.tracking.messages import normalize

MAX_IMPRESSION_BYTES = 4096
MAX_ID = 128
SCRIPT_CACHE = "public, max-age=300"

admin = APIRouter(
    prefix="/v1/onsite/placements", tags=["onsite"], dependencies=[Depends(require_admin)]
)
public = APIRouter(tags=["onsite"])
router = APIRouter()


class PlacementList(BaseModel):
    """Placements by slot, highest priority first."""

    placements: list[PlacementOut]


class SlotOut(BaseModel):
    """What one slot shows."""

    html: str = Field(description="Insert inside the slot element.")
    impression_url: str = Field(description="POST here (track key) once the slot is seen.")
    template: str
    placement: str | None = Field(None, description="The placement shown, if any.")
    message: int | None = Field(None, description="The workflow message (outbox id) shown, if any.")


class SlotsOut(BaseModel):
    """Per slot asked for: its content, or ``null`` to keep the page's own."""

    slots: dict[str, SlotOut | None]


class Recorded(BaseModel):
    """Whether the impression was recorded (``false``: the visitor had no id to record it
    under, or the message's impression was recorded before)."""

    recorded: bool


def out(row: OnsitePlacement) -> PlacementOut:
    """The API shape of a placement."""
    return PlacementOut(
        id=row.id,
        slot=row.slot,
        template=row.template,
        audience=parse(row.audience),
        priority=row.priority,
        status=row.status,  # type: ignore[arg-type]  # checked on write
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# -- placements (admin) ----------------------------------------------------------------------


@admin.get("", response_model=PlacementList)
def list_placements(
    request: Request,
    slot: Annotated[str | None, Query(description="Only this slot.")] = None,
    status: Annotated[str | None, Query(description="`active` or `paused`.")] = None,
) -> PlacementList:
    """Every placement, by slot and priority."""
    with services(request).uow.transaction() as session:
        rows = service.list_(session, slot=slot, status=status)
        return PlacementList(placements=[out(row) for row in rows])


@admin.put(
    "/{placement_id}",
    response_model=PlacementOut,
    responses={201: {"model": PlacementOut, "description": "Created."}},
)
def save_placement(
    request: Request, response: Response, placement_id: str, body: PlacementIn
) -> PlacementOut:
    """Create (201) or replace (200) a placement."""
    found = services(request)
    now = found.clock.now()

    def work(session: Session) -> tuple[PlacementOut, bool]:
        row, created = service.save(session, placement_id, body, now=now)
        return out(row), created

    saved, created = in_transaction(found.uow, work)
    response.status_code = 201 if created else 200
    return saved


@admin.get("/{placement_id}", response_model=PlacementOut)
def get_placement(request: Request, placement_id: str) -> PlacementOut:
    """One placement."""
    with services(request).uow.transaction() as session:
        return out(service.get(session, placement_id))


@admin.delete("/{placement_id}", status_code=204, response_class=Response)
def delete_placement(request: Request, placement_id: str) -> Response:
    """Remove a placement."""
    in_transaction(services(request).uow, lambda s: service.delete(s, placement_id))
    return Response(status_code=204)


def _set_status(request: Request, placement_id: str, status: str) -> PlacementOut:
    found = services(request)
    now = found.clock.now()
    return in_transaction(
        found.uow,
        lambda s: out(service.set_status(s, placement_id, status, now=now)),
    )


@admin.post("/{placement_id}/pause", response_model=PlacementOut)
def pause_placement(request: Request, placement_id: str) -> PlacementOut:
    """Stop showing a placement."""
    return _set_status(request, placement_id, "paused")


@admin.post("/{placement_id}/activate", response_model=PlacementOut)
def activate_placement(request: Request, placement_id: str) -> PlacementOut:
    """Show a paused placement again (within its dates)."""
    return _set_status(request, placement_id, "active")


# -- slots, impressions, clicks (track key) ----------------------------------------------------


def _track_key(request: Request, key: str | None) -> None:
    authenticate(request, key_from_headers(request) or key, scopes=("track", "admin"))


def _visitor_id(value: str | None, field: str) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > MAX_ID:
        raise InvalidInput(f"{field} is at most {MAX_ID} characters", field=field)
    return value


@public.get("/v1/onsite/slots", response_model=SlotsOut)
def slots(
    request: Request,
    response: Response,
    slots: Annotated[str, Query(description="Slot names, comma-separated.")],
    anonymous_id: Annotated[str | None, Query(alias="anonymousId")] = None,
    user_id: Annotated[str | None, Query(alias="userId")] = None,
    url: Annotated[str | None, Query(description="The page, to resolve relative links.")] = None,
    write_key: Annotated[str | None, Query(alias="writeKey")] = None,
) -> SlotsOut:
    """The content each slot shows to this visitor (a workflow's message first, else the best
    placement their profile qualifies for); anonymous visitors see placements for everyone."""
    _track_key(request, write_key)
    found = services(request)
    now = found.clock.now()
    aid = _visitor_id(anonymous_id, "anonymousId")
    uid = _visitor_id(user_id, "userId")
    page = url if url and len(url) <= 2048 else None
    wanted = service.check_slots(slots.split(","))

    def work(session: Session) -> dict[str, service.Shown | None]:
        contact = service.find_visitor(session, anonymous_id=aid, user_id=uid)
        return service.choose(
            session,
            found.settings,
            contact_id=contact.id if contact else None,
            slots=wanted,
            now=now,
            page_url=page,
            anonymous_id=aid,
            user_id=uid,
        )

    chosen = in_transaction(found.uow, work)
    response.headers["Cache-Control"] = "no-store"
    return SlotsOut(slots={name: _slot(shown) for name, shown in chosen.items()})


def _slot(shown: service.Shown | None) -> SlotOut | None:
    if shown is None:
        return None
    return SlotOut(
        html=shown.html,
        impression_url=shown.impression_url,
        template=shown.template,
        placement=shown.placement,
        message=shown.message,
    )


async def _small_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_IMPRESSION_BYTES:
        raise ApiError(413, "too_large", "the body is too large", field="body")
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("the body is not valid JSON", field="body") from None
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", field="body")
    return body


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    return value if isinstance(value, str) and value else None


@public.post("/v1/onsite/impressions", response_model=Recorded)
async def impressions(
    request: Request,
    token: Annotated[str, Query(max_length=8192, description="From `impression_url`.")],
) -> Recorded:
    """The slot's content was seen (POST the slot's `impression_url`); body, optional:
    `{"writeKey": …, "url": the page}` (any content type)."""
    body = await _small_json(request)
    await run_in_threadpool(_track_key, request, _text(body, "writeKey"))
    found = services(request)
    now = found.clock.now()
    page = _text(body, "url")
    page = page if page and len(page) <= 2048 else None

    def work(session: Session) -> interactions.Impression:
        return interactions.record_impression(
            session, found.settings, token, now=now, page_url=page
        )

    impression = await run_in_threadpool(in_transaction, found.uow, work)
    if impression.event is not None:
        await run_in_threadpool(_enqueue, request, found, impression.event, now)
    return Recorded(recorded=impression.recorded)


@public.get("/v1/onsite/click/{token}", response_class=RedirectResponse, status_code=302)
def click(request: Request, token: str) -> RedirectResponse:
    """A placement's link: records an `Onsite Click` and redirects to the target."""
    found = services(request)
    now = found.clock.now()
    followed = interactions.click(found.settings, token, now=now)
    if followed.event is not None:
        _enqueue(request, found, followed.event, now)
    return RedirectResponse(followed.url, status_code=302, headers={"Cache-Control": "no-store"})


def _enqueue(request: Request, found: Services, message: dict[str, Any], now: dt.datetime) -> None:
    enqueue(found.inbox.engine, [normalize(message, received_at=now)], received_at=now)
    processor = request.app.state.processor
    if processor is not None:
        processor.notify()


@lru_cache(maxsize=1)
def _script() -> tuple[str, str]:
    source = resources.files("lealta.onsite").joinpath("slots.js").read_text(encoding="utf-8")
    return source, '"' + hashlib.sha256(source.encode()).hexdigest()[:32] + '"'


@public.get(
    "/onsite.js",
    response_class=Response,
    responses={200: {"content": {"application/javascript": {}}, "description": "The script."}},
)
def script(request: Request) -> Response:
    """The script that fills ``data-lealta-slot`` elements, embedded with
    ``<script src="…/onsite.js" data-key="WRITE_KEY" async></script>``."""
    source, etag = _script()
    headers = {"Cache-Control": SCRIPT_CACHE, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(source, media_type="application/javascript", headers=headers)


router.include_router(admin)
router.include_router(public)
