"""Saved audiences over HTTP (admin key): keep them, count while editing, read members,
explain a person, follow the size, refresh.

* ``GET /v1/audiences``, ``POST /v1/audiences`` (a definition, YAML or JSON), ``GET|PUT|DELETE
  /v1/audiences/{id}``, ``GET /v1/audiences/schema``;
* ``POST /v1/audiences/preview`` ``{condition}``: a fast estimate, the exact count and the
  funnel (who is left after each condition of an ``all``), for a builder;
* ``GET /v1/audiences/{id}/members`` (a page, keyset by contact id),
  ``GET /v1/audiences/{id}/explain/{contact_id}`` (why in or out, condition by condition),
  ``GET /v1/audiences/{id}/sizes`` (size per day), ``POST /v1/audiences/{id}/refresh`` (now,
  or queued as a job with ``background=true``).

A bad definition is answered 400 naming the field (``condition.conditions.1.gte``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from lealta.audiences import counting, members, service, sizes
from lealta.audiences.definition import json_schema, load_condition, time_bound
from lealta.audiences.explaining import explain
from lealta.audiences.membership import refresh
from lealta.audiences.tables import Audience
from lealta.contacts.schemas import UtcTime
from lealta.rest.auth import Caller, require_admin, services
from lealta.rest.documents import JSON_OR_YAML, document_text
from lealta.rest.queueing import ALREADY_UNDER_WAY, queue_job
from lealta.storage.retry import in_transaction

AudienceId = Annotated[
    int, Path(ge=1, le=2**63 - 1, description="The audience's id (`GET /v1/audiences` lists them).")
]
router = APIRouter(prefix="/v1/audiences", tags=["audiences"])


class AudienceOut(BaseModel):
    """A saved audience."""

    id: int
    name: str
    description: str
    version: int = Field(description="Raised by one when a changed definition is saved.")
    list: str | None = Field(description="The list kept equal to the members, if any.")
    archived: bool = Field(description="Archived audiences are no longer refreshed.")
    size: int | None = Field(description="Members after the latest refresh (null: never).")
    refreshed_at: UtcTime | None
    time_bound: bool = Field(description="Its rules have windows: time alone changes members.")
    definition: dict[str, Any] = Field(description="The current version's definition.")


class SavedOut(AudienceOut):
    """A saved audience, and whether this save created it or changed it."""

    created: bool
    changed: bool


class AudienceList(BaseModel):
    """Audiences by name."""

    audiences: list[AudienceOut]


class PreviewIn(BaseModel):
    """A condition being edited."""

    model_config = ConfigDict(extra="forbid")

    condition: dict[str, Any] = Field(description="A condition of the shared language.")
    exact: bool = Field(True, description="Also count exactly (slower at a million contacts).")
    funnel: bool = Field(True, description="Also count who is left after each condition.")


class EstimateOut(BaseModel):
    """A count estimated on a random slice of the contacts."""

    count: int
    margin: int = Field(description="95 % margin: the count is within count ± margin.")
    sampled: int = Field(description="Contacts looked at.")
    contacts: int = Field(description="Live contacts in the store.")
    exact: bool = Field(description="True when every contact was looked at.")


class StepOut(BaseModel):
    """Who is left after a top-level condition (and every one before it)."""

    index: int
    label: str = Field(description="What the condition asks, in words.")
    left: int


class PreviewOut(BaseModel):
    """How many people a condition holds of now."""

    estimate: EstimateOut
    exact: int | None = Field(description="The exact count (null when not asked).")
    funnel: list[StepOut] | None = Field(description="The funnel (null when not asked).")


class MemberOut(BaseModel):
    """A member and since when."""

    contact_id: str
    since: UtcTime


class MembersOut(BaseModel):
    """A page of members by contact id."""

    members: list[MemberOut]
    next_after: str | None = Field(description="Pass as ``after`` for the next page.")


class SizeOut(BaseModel):
    """The size on a day, after its latest refresh."""

    day: dt.date
    size: int
    entered: int
    exited: int


class SizesOut(BaseModel):
    """Size per day, oldest first (days without a refresh are absent)."""

    sizes: list[SizeOut]


class LineOut(BaseModel):
    """One condition of the tree, tested for the person now."""

    path: str = Field(description="Where it is in the definition (condition.conditions.1).")
    depth: int
    kind: str
    test: str = Field(description="What it tests, in a line.")
    holds: bool


class ExplanationOut(BaseModel):
    """Why a person is in the audience or out of it, condition by condition."""

    audience: str
    contact_id: str
    member: bool = Field(description="A member as of the latest refresh.")
    holds: bool = Field(description="The condition holds now (the next refresh's answer).")
    live: bool = Field(description="False: erased or merged into another profile.")
    at: UtcTime
    lines: list[LineOut]


class RefreshOut(BaseModel):
    """What a refresh did."""

    audience_id: int
    name: str
    size: int
    entered: int = Field(description="People who entered (an Audience Entered event each).")
    exited: int = Field(description="People who left (an Audience Exited event each).")
    seconds: float


def _out(session: Any, audience: Audience) -> dict[str, Any]:
    return {
        "id": audience.id,
        "name": audience.name,
        "description": audience.description,
        "version": audience.version,
        "list": audience.list_slug,
        "archived": audience.archived,
        "size": audience.size,
        "refreshed_at": audience.refreshed_at,
        "time_bound": time_bound(audience.condition),
        "definition": service.definition(session, audience),
    }


@router.get("", response_model=AudienceList)
def list_audiences(
    request: Request,
    _caller: Caller = Depends(require_admin),
    archived: bool = Query(False, description="Include archived audiences."),
) -> dict[str, Any]:
    """The saved audiences by name, with their size after the latest refresh."""
    with services(request).uow.transaction() as session:
        return {"audiences": [_out(session, a) for a in service.list_(session, archived=archived)]}


@router.get("/schema")
def schema(_caller: Caller = Depends(require_admin)) -> dict[str, Any]:
    """The JSON Schema of audience definitions."""
    return json_schema()


@router.post(
    "",
    status_code=201,
    response_model=SavedOut,
    openapi_extra=JSON_OR_YAML,
    responses={200: {"model": SavedOut, "description": "A new version, or unchanged."}},
)
async def create(request: Request, _caller: Caller = Depends(require_admin)) -> Any:
    """Save a definition (YAML or JSON): a new audience (201), or a new version of the
    audience of that name (200). Members are computed by the next refresh."""
    text = await document_text(request)
    answer, created = await run_in_threadpool(_save, request, text, None)
    return JSONResponse(answer, status_code=201 if created else 200)


@router.get("/{audience_id}", response_model=AudienceOut)
def read(
    audience_id: AudienceId, request: Request, _caller: Caller = Depends(require_admin)
) -> dict[str, Any]:
    """An audience with its current definition."""
    with services(request).uow.transaction() as session:
        return _out(session, service.get(session, audience_id))


@router.put("/{audience_id}", response_model=SavedOut, openapi_extra=JSON_OR_YAML)
async def replace(
    audience_id: AudienceId, request: Request, _caller: Caller = Depends(require_admin)
) -> Any:
    """Save a new version of the audience (a new name renames it, unless other audiences
    refer to it: 409)."""
    text = await document_text(request)
    answer, _created = await run_in_threadpool(_save, request, text, audience_id)
    return answer


def _save(request: Request, text: str, audience_id: int | None) -> tuple[dict[str, Any], bool]:
    found = services(request)
    now = found.clock.now()

    def work(session: Any) -> tuple[dict[str, Any], bool]:
        saved = service.save(session, text, now=now, audience_id=audience_id)
        out = {**_out(session, saved.audience), "created": saved.created}
        return SavedOut(**out, changed=saved.changed).model_dump(mode="json"), saved.created

    return in_transaction(found.uow, work)


@router.delete("/{audience_id}", status_code=204)
def remove(
    audience_id: AudienceId,
    request: Request,
    _caller: Caller = Depends(require_admin),
    archive: bool = Query(
        False, description="Archive instead: kept with its members, no longer refreshed."
    ),
) -> None:
    """Delete an audience with its members and sizes (409 while others refer to it)."""
    found = services(request)

    def work(session: Any) -> None:
        audience = service.get(session, audience_id)
        if archive:
            service.archive(session, audience, archived=True, now=found.clock.now())
        else:
            service.delete_(session, audience)

    in_transaction(found.uow, work)


@router.post("/preview", response_model=PreviewOut)
def preview(
    request: Request,
    body: PreviewIn = Body(...),
    _caller: Caller = Depends(require_admin),
) -> dict[str, Any]:
    """Count who a condition holds of now: an estimate on a random slice of the contacts
    (fast at a million), the exact count and the funnel."""
    condition = load_condition(body.condition)
    found = services(request)
    now = found.clock.now()
    with found.uow.transaction() as session:
        guess = counting.estimate(session, condition, now=now)
        exact = counting.count(session, condition, now=now) if body.exact else None
        steps = counting.funnel(session, condition, now=now) if body.funnel else None
    return {
        "estimate": vars(guess),
        "exact": exact,
        "funnel": None if steps is None else [vars(step) for step in steps],
    }


@router.get("/{audience_id}/members", response_model=MembersOut)
def list_members(
    audience_id: AudienceId,
    request: Request,
    _caller: Caller = Depends(require_admin),
    limit: int = Query(50, ge=1, le=members.MAX_LIMIT, description="At most this many."),
    after: str | None = Query(None, description="The last contact id of the previous page."),
) -> dict[str, Any]:
    """Members by contact id (random ids: a page is a random sample)."""
    with services(request).uow.transaction() as session:
        audience = service.get(session, audience_id)
        found = members.page(session, audience, limit=limit, after=after)
    return {
        "members": [vars(member) for member in found],
        "next_after": found[-1].contact_id if len(found) == limit else None,
    }


@router.get("/{audience_id}/explain/{contact_id}", response_model=ExplanationOut)
def explain_contact(
    audience_id: AudienceId,
    contact_id: str,
    request: Request,
    _caller: Caller = Depends(require_admin),
) -> dict[str, Any]:
    """Why the contact is in or out: every condition of the tree tested for them now, with
    the same SQL a refresh uses."""
    found = services(request)
    with found.uow.transaction() as session:
        answer = explain(session, audience_id, contact_id, now=found.clock.now())
    return {**vars(answer), "lines": [vars(line) for line in answer.lines]}


@router.get("/{audience_id}/sizes", response_model=SizesOut)
def list_sizes(
    audience_id: AudienceId,
    request: Request,
    _caller: Caller = Depends(require_admin),
    days: int = Query(90, ge=1, le=sizes.MAX_DAYS, description="The last so many days."),
) -> dict[str, Any]:
    """The size per day over the last ``days`` days."""
    found = services(request)
    today = found.clock.now().astimezone(dt.UTC).date()
    with found.uow.transaction() as session:
        audience = service.get(session, audience_id)
        return {
            "sizes": [vars(s) for s in sizes.history(session, audience, today=today, days=days)]
        }


@router.post(
    "/{audience_id}/refresh",
    response_model=RefreshOut,
    responses={
        202: {"description": "Queued as a job (its URL in Location: GET /v1/jobs/{id})."},
        **ALREADY_UNDER_WAY,
    },
)
async def refresh_now(
    audience_id: AudienceId,
    request: Request,
    caller: Caller = Depends(require_admin),
    background: bool = Query(False, description="Queue a job instead of waiting."),
) -> Any:
    """Recompute the members now (or queue an ``audience_refresh`` job): who entered and
    exited get an event each, which start the workflows they trigger."""
    found = services(request)
    if background:
        with found.uow.transaction() as session:
            name = service.get(session, audience_id).name
        return await queue_job(request, caller, kind="audience_refresh", params={"audience": name})

    def work(session: Any) -> dict[str, Any]:
        audience = service.get(session, audience_id)
        return vars(refresh(session, audience, now=found.clock.now()))

    return await run_in_threadpool(in_transaction, found.uow, work)
