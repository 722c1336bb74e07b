"""Workflows over HTTP: import (YAML or JSON), read, enable, pause, enrol, statistics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from lealta.automations import service
from lealta.automations.definition import dump, json_schema
from lealta.automations.stats import workflow_stats
from lealta.errors import NotFound
from lealta.rest.auth import Caller, require_admin, services
from lealta.storage.retry import in_transaction

router = APIRouter(prefix="/v1/automations", tags=["automations"])

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


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


@router.get("")
def list_(request: Request, _caller: Caller = Depends(require_admin)) -> dict[str, Any]:
    """Every workflow with its status and run counts."""
    with services(request).uow.transaction() as session:
        return {
            "workflows": [
                {
                    "id": w.id,
                    "name": w.name,
                    "status": w.status,
                    "version": w.current_version,
                    **{k: v for k, v in workflow_stats(session, w.id).items() if k != "steps"},
                }
                for w in service.list_workflows(session)
            ]
        }


@router.post("", status_code=201, openapi_extra=_BODY)
async def import_(request: Request, _caller: Caller = Depends(require_admin)) -> dict[str, Any]:
    """Store a workflow (YAML or JSON); an existing id gets a new version."""
    text = (await request.body()).decode("utf-8", errors="replace")
    found = services(request)
    now = found.clock.now()
    saved = in_transaction(found.uow, lambda s: service.save(s, text, now=now))
    with found.uow.transaction() as session:
        return {**_summary(session, saved.workflow_id), "changed": saved.changed}


@router.get("/{workflow_id}")
def read(
    workflow_id: str, request: Request, _caller: Caller = Depends(require_admin)
) -> dict[str, Any]:
    """A workflow: status, current version and definition."""
    with services(request).uow.transaction() as session:
        return _summary(session, workflow_id)


@router.post("/{workflow_id}/{action}")
def change(
    workflow_id: str, action: str, request: Request, _caller: Caller = Depends(require_admin)
) -> dict[str, Any]:
    """``enable`` or ``pause`` a workflow."""
    status = {"enable": "active", "pause": "paused"}.get(action)
    if status is None:
        raise NotFound(f"no action {action!r}; use enable or pause")
    found = services(request)
    now = found.clock.now()
    in_transaction(found.uow, lambda s: service.set_status(s, workflow_id, status, now=now))
    with found.uow.transaction() as session:
        return _summary(session, workflow_id)


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


@router.get("/{workflow_id}/stats")
def stats(
    workflow_id: str, request: Request, _caller: Caller = Depends(require_admin)
) -> dict[str, Any]:
    """Entered, active, waiting, exited, goal, conversion rate, and per step."""
    with services(request).uow.transaction() as session:
        service.get(session, workflow_id)
        return workflow_stats(session, workflow_id)
