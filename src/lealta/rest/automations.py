"""Workflows over HTTP: import (YAML or JSON), read, enable, pause, enrol, statistics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from lealta.automations import runs, service
from lealta.automations.definition import dump, json_schema
from lealta.automations.stats import workflow_stats
from lealta.bootstrap import Services
from lealta.contacts.schemas import UtcTime
from lealta.overview.summary import Freshness, PerStore
from lealta.rest.auth import Caller, require_admin, services
from lealta.rest.documents import JSON_OR_YAML, document_text
from lealta.storage.retry import in_transaction

router = APIRouter(prefix="/v1/automations", tags=["automations"])


class Enrolment(BaseModel):
    """A manual or API enrolment."""

    contact_id: str = Field(description="The contact to enrol.")
    entry_key: str | None = Field(
        None, description="Idempotency: the same key enrols once (default: one per call)."
    )


def _summary(session: Any, workflow_id: str) -> dict[str, Any]:
    workflow = service.get(session, workflow_id)
    return {
        "id": workflow.id,
        "name": workflow.name,
        "status": workflow.status,
        "version": workflow.current_version,
        "definition": dump(service.definition(session, workflow_id)),
    }


@router.get("/schema")
def schema(_caller: Caller = Depends(require_admin)) -> dict[str, Any]:
    """The JSON Schema of workflow definitions."""
    return json_schema()


@router.get("/templates")
def templates(_caller: Caller = Depends(require_admin)) -> dict[str, Any]:
    """The ready-made workflows Lealta ships, each with its YAML."""
    from lealta.automations import catalog

    return {
        "templates": [
            {
                "id": info.id,
                "name": info.name,
                "description": info.description,
                "yaml": catalog.template_text(info.id),
            }
            for info in catalog.templates()
        ]
    }


@router.post("/templates/{template_id}", status_code=201)
def install(
    template_id: str, request: Request, _caller: Caller = Depends(require_admin)
) -> dict[str, Any]:
    """Import a shipped template as a workflow (draft: enable it when ready), with the
    shipped message templates it uses that are not stored yet (``templates_installed``;
    stored ones are never replaced)."""
    found = services(request)
    now = found.clock.now()
    done = in_transaction(found.uow, lambda s: service.install(s, template_id, now=now))
    with found.uow.transaction() as session:
        return {
            **_summary(session, done.saved.workflow_id),
            "changed": done.saved.changed,
            "templates_installed": done.templates,
            "missing_templates": _missing(session, done.saved.workflow_id),
        }


def _missing(session: Any, workflow_id: str) -> list[str]:
    return service.missing_templates(session, service.definition(session, workflow_id))


@router.get("")
def list_(request: Request, _caller: Caller = Depends(require_admin)) -> dict[str, Any]:
    """Every workflow with its status and run counts."""
    found = services(request)
    with found.uow.transaction() as session:
        return {
            "workflows": [
                {
                    "id": w.id,
                    "name": w.name,
                    "status": w.status,
                    "version": w.current_version,
                    **{k: v for k, v in kept_stats(found, w.id).items() if k != "steps"},
                }
                for w in service.list_workflows(session)
            ]
        }


@router.post("", status_code=201, openapi_extra=JSON_OR_YAML)
async def import_(request: Request, _caller: Caller = Depends(require_admin)) -> dict[str, Any]:
    """Store a workflow (YAML or JSON); an existing id gets a new version.
    ``missing_templates`` names the message templates to store before enabling it."""
    text = await document_text(request)
    found = services(request)
    now = found.clock.now()
    saved = in_transaction(found.uow, lambda s: service.save(s, text, now=now))
    with found.uow.transaction() as session:
        return {
            **_summary(session, saved.workflow_id),
            "changed": saved.changed,
            "missing_templates": _missing(session, saved.workflow_id),
        }


@router.get("/{workflow_id}")
def read(
    workflow_id: str, request: Request, _caller: Caller = Depends(require_admin)
) -> dict[str, Any]:
    """A workflow: status, current version and definition."""
    with services(request).uow.transaction() as session:
        return _summary(session, workflow_id)


def _set_status(request: Request, workflow_id: str, status: str) -> dict[str, Any]:
    found = services(request)
    now = found.clock.now()
    in_transaction(found.uow, lambda s: service.set_status(s, workflow_id, status, now=now))
    with found.uow.transaction() as session:
        return _summary(session, workflow_id)


@router.post("/{workflow_id}/enable")
def enable(
    workflow_id: str, request: Request, _caller: Caller = Depends(require_admin)
) -> dict[str, Any]:
    """Start enrolling people and advancing runs; 409 naming them when message templates
    its send steps use are not stored."""
    return _set_status(request, workflow_id, "active")


@router.post("/{workflow_id}/pause")
def pause(
    workflow_id: str, request: Request, _caller: Caller = Depends(require_admin)
) -> dict[str, Any]:
    """Stop enrolling; runs wait where they are until enabled again."""
    return _set_status(request, workflow_id, "paused")


@router.post("/{workflow_id}/runs", status_code=202)
def enrol(
    workflow_id: str,
    body: Enrolment,
    request: Request,
    _caller: Caller = Depends(require_admin),
) -> dict[str, Any]:
    """Enrol a contact by hand (the entry rules still apply)."""
    found = services(request)
    now = found.clock.now()

    def work(session: Any) -> str | None:
        workflow = service.get(session, workflow_id)
        return service.enroll(
            session,
            workflow,
            service.definition(session, workflow_id),
            body.contact_id,
            entry_key=body.entry_key or f"api:{now.isoformat()}",
            now=now,
        )

    run = in_transaction(found.uow, work)
    return {"enrolled": run is not None, "run_id": run}


class DryRun(BaseModel):
    """Who to simulate: an RFM segment and/or a tag (everyone if neither)."""

    segment: str | None = None
    tag: str | None = None
    days: float = Field(30.0, gt=0, le=366)
    limit: int | None = Field(None, ge=1, le=100_000)


@router.post("/{workflow_id}/dry-run")
def dry_run(
    workflow_id: str,
    body: DryRun,
    request: Request,
    _caller: Caller = Depends(require_admin),
) -> dict[str, Any]:
    """How many people of an audience would take each step and branch (nothing is written)."""
    from lealta.automations.dryrun import audience
    from lealta.automations.dryrun import dry_run as simulate

    found = services(request)
    with found.uow.transaction() as session:
        ids = audience(session, segment=body.segment, tag=body.tag, limit=body.limit)
        definition = service.definition(session, workflow_id)
        return simulate(session, definition, ids, now=found.clock.now(), days=body.days)


@router.get("/{workflow_id}/stats")
def stats(
    workflow_id: str, request: Request, _caller: Caller = Depends(require_admin)
) -> dict[str, Any]:
    """Entered, active, waiting, exited, goal, conversion rate; what became of the messages
    (``messages``: sent, suppressed by reason, failed, held for quiet hours, waiting); and per
    step."""
    found = services(request)
    with found.uow.transaction() as session:
        service.get(session, workflow_id)
    return kept_stats(found, workflow_id)


# A workflow's stats count its runs, step log and messages: seconds for 200,000 runs. As the
# Journeys pages do, a workflow of at least LARGE_WORKFLOW runs whose count took longer than
# a quarter of a second is served from a summary recounted in the background every 30 s and
# never older than a minute (lealta.overview.summary); smaller ones are always counted live.
STATS_FRESHNESS = Freshness(live_below=0.25)
LARGE_WORKFLOW = 20_000


def kept_stats(found: Services, workflow_id: str) -> dict[str, Any]:
    """``workflow_stats`` of ``workflow_id``, live or from its summary (see above)."""
    return _stats.of(found).read(workflow_id)


def _count_stats(found: Services, workflow_id: str) -> dict[str, Any]:
    with found.uow.transaction() as session:
        return workflow_stats(session, workflow_id)


_stats: PerStore[str, dict[str, Any]] = PerStore(
    _count_stats,
    lambda: STATS_FRESHNESS,
    name="automation stats",
    large=lambda counted: int(counted["entered"]) >= LARGE_WORKFLOW,
)


class RunOut(BaseModel):
    """One contact's trip through the workflow."""

    id: str
    contact_id: str
    version: int = Field(description="The workflow version the run follows.")
    entry_key: str = Field(description="What enrolled it (the same key enrols once).")
    status: str = Field(description="active, waiting, done, goal or exited.")
    step_id: str | None = Field(description="The current step (where it waits, or ended).")
    wake_at: UtcTime | None = Field(description="When a waiting run is next looked at.")
    exit_reason: str | None = Field(description="Why it left early (exited runs).")
    entered_at: UtcTime
    updated_at: UtcTime
    ended_at: UtcTime | None


class RunPage(BaseModel):
    """A workflow's runs, newest first."""

    runs: list[RunOut]
    next: str | None = Field(description="Pass as ``cursor`` for the next page; null at the end.")


RunStatus = Annotated[
    str | None, Query(description="Only runs in this state: active, waiting, done, goal, exited.")
]


@router.get("/{workflow_id}/runs", response_model=RunPage)
def list_runs(
    workflow_id: str,
    request: Request,
    _caller: Caller = Depends(require_admin),
    contact: Annotated[str | None, Query(description="Only this contact's runs.")] = None,
    status: RunStatus = None,
    limit: Annotated[int, Query(ge=1, le=runs.MAX_LIMIT)] = runs.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="`next` of the previous page.")] = None,
) -> RunPage:
    """The workflow's runs with their state, current step, wake time and exit reason, newest
    first, ``limit`` per page."""
    with services(request).uow.transaction() as session:
        service.get(session, workflow_id)
        found, following = runs.list_(
            session, workflow_id, contact_id=contact, status=status, limit=limit, cursor=cursor
        )
        return RunPage(
            runs=[
                RunOut.model_validate({name: getattr(run, name) for name in RunOut.model_fields})
                for run in found
            ],
            next=following,
        )
