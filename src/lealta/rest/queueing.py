"""Queueing a background job from a route: the one answer every "do it in the background"
endpoint gives (RFM scores, next-best items, predicted value, an audience's refresh).

The job is queued (or, when one of the same kind and parameters is already queued or running,
that one is found: :func:`lealta.jobs.service.enqueue`) and answered as ``GET /v1/jobs/{id}``
answers it: 202 when it was queued now, 200 when it was already under way; in both cases the
``Location`` header is the job's URL, to follow it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from lealta.jobs import service
from lealta.rest.auth import Caller, services
from lealta.rest.jobs import JobOut, job_out

ALREADY_UNDER_WAY: dict[int | str, dict[str, Any]] = {
    200: {"model": JobOut, "description": "The same job was already under way: that one."}
}


# The route's answers: ``@router.post(path, **QUEUES)``.
QUEUES: dict[str, Any] = {
    "status_code": 202,
    "response_model": JobOut,
    "responses": ALREADY_UNDER_WAY,
}


async def queue_job(
    request: Request,
    caller: Caller,
    *,
    kind: str,
    params: Mapping[str, Any] | BaseModel | None = None,
) -> JSONResponse:
    """Queue a ``kind`` job with ``params`` (a request body: the options it sets) for
    ``caller``: 202 with the job and its URL (``Location``), or 200 with the one already
    queued or running."""
    if isinstance(params, BaseModel):
        params = params.model_dump(exclude_none=True)
    found = services(request)
    job, new = await run_in_threadpool(
        service.enqueue,
        found.uow,
        kind=kind,
        params=dict(params or {}),
        requested_by=f"api key {caller.key_id}",
        now=found.clock.now(),
    )
    answer = JobOut.model_validate(job_out(job)).model_dump(mode="json")
    location = str(request.url_for("get_job", job_id=job.id))
    return JSONResponse(answer, status_code=202 if new else 200, headers={"Location": location})
