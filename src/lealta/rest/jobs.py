"""Background jobs: ``POST /v1/segmentation/rfm/jobs`` queues an RFM recomputation (202), and
``GET /v1/jobs/{id}`` / ``GET /v1/jobs`` follow it; admin key.

A job is run by a worker (``lealta worker``, or the one ``lealta serve`` starts): ``status``
goes ``queued`` → ``running`` → ``done`` (with ``result``) or ``failed`` (with ``error``), and
``progress`` (0 to 1) and ``step`` say how far it is. Only one RFM job is queued or running at
a time: asking again answers with the one under way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lealta.contacts.schemas import as_utc
from lealta.jobs import service
from lealta.jobs.tables import Job
from lealta.rest.auth import Caller, require_admin, services

router = APIRouter(tags=["segments"])


class RfmJobRequest(BaseModel):
    """Options of an RFM recomputation: those of ``POST /v1/segmentation/rfm``, plus
    clustering."""

    model_config = ConfigDict(extra="forbid")

    clusters: Literal["auto"] | int | None = Field(
        None,
        description="K-Means clusters of the customers too: 'auto' chooses their number by "
        "silhouette, a number from 2 fixes it; none by default.",
    )

    @field_validator("clusters")
    @classmethod
    def _at_least_two(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, int) and not 2 <= value <= 20:
            raise ValueError("clusters takes 'auto' or a number from 2 to 20")
        return value


class JobOut(BaseModel):
    """A background job and how far it is."""

    id: str = Field(description="The job's id (GET /v1/jobs/{id}).")
    kind: str = Field(description="What it does: 'rfm' recomputes every contact's RFM scores.")
    params: dict[str, Any] = Field(description="The options it was asked with.")
    status: Literal["queued", "running", "done", "failed"] = Field(
        description="queued (waiting for a worker), running, done or failed."
    )
    progress: float = Field(description="How far it is, from 0 to 1.", ge=0, le=1)
    step: str = Field(description="What it is doing, in words (e.g. 'Reading 120,000 orders').")
    requested_by: str = Field(description="Who asked: a console user's e-mail or 'api key ID'.")
    created_at: dt.datetime = Field(description="When it was asked for (UTC).")
    started_at: dt.datetime | None = Field(description="When a worker started it.")
    finished_at: dt.datetime | None = Field(description="When it ended, done or failed.")
    heartbeat_at: dt.datetime | None = Field(description="The worker's last sign of life.")
    result: dict[str, Any] | None = Field(
        description="When done: for 'rfm', as_of (analysis date), customers (contacts scored), "
        "segments (customers per segment, largest first) and clusters (their number, or null)."
    )
    error: str | None = Field(description="When failed: what went wrong, in words.")


class JobList(BaseModel):
    """Jobs, latest first."""

    jobs: list[JobOut]


def job_out(job: Job) -> dict[str, Any]:
    """A job as the API answers it."""
    return {
        "id": job.id,
        "kind": job.kind,
        "params": dict(job.params or {}),
        "status": job.status,
        "progress": min(1.0, max(0.0, float(job.progress or 0.0))),
        "step": job.step or "",
        "requested_by": job.requested_by,
        "created_at": as_utc(job.created_at),
        "started_at": _utc(job.started_at),
        "finished_at": _utc(job.finished_at),
        "heartbeat_at": _utc(job.heartbeat_at),
        "result": job.result,
        "error": job.error,
    }


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else as_utc(moment)


@router.post(
    "/v1/segmentation/rfm/jobs",
    status_code=202,
    response_model=JobOut,
    responses={200: {"model": JobOut, "description": "An RFM job was already under way."}},
)
async def queue_rfm(
    request: Request,
    body: RfmJobRequest | None = None,
    caller: Caller = Depends(require_admin),
) -> Any:
    """Recompute every contact's RFM scores in the background (202 with the queued job).

    Follow it with ``GET /v1/jobs/{id}``. When an RFM job is already queued or running, that
    job is answered instead (200). ``POST /v1/segmentation/rfm`` does the same work while the
    request waits.
    """
    from lealta.rest.queueing import queue_job  # it answers with this module's JobOut

    return await queue_job(request, caller, kind="rfm", params=body)


@router.get("/v1/jobs/{job_id}", response_model=JobOut)
def get_job(
    request: Request, job_id: str, _caller: Caller = Depends(require_admin)
) -> dict[str, Any]:
    """A job: its status, progress, step, and its result or error (404 when unknown)."""
    with services(request).uow.transaction() as session:
        return job_out(service.get(session, job_id))


@router.get("/v1/jobs", response_model=JobList)
def list_jobs(
    request: Request,
    _caller: Caller = Depends(require_admin),
    kind: str | None = Query(None, description="Only jobs of this kind (e.g. 'rfm')."),
    limit: int = Query(20, ge=1, le=service.MAX_LIMIT, description="At most this many jobs."),
) -> dict[str, Any]:
    """Background jobs, latest first."""
    with services(request).uow.transaction() as session:
        return {"jobs": [job_out(job) for job in service.list_(session, kind=kind, limit=limit)]}
