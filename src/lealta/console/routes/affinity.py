"""The Affinity page: pairs of items bought together or in sequence, sortable."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from lealta.console.affinity_page import affinity_context
from lealta.console.auth import SignedIn, signed_in
from lealta.console.rendering import render, services_of

router = APIRouter(include_in_schema=False)


@router.get("/affinity", response_class=HTMLResponse)
async def affinity(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """The strongest pairs of the store's order lines (``by``, ``sequence``, ``sort``)."""
    query = dict(request.query_params)
    context = await run_in_threadpool(affinity_context, services_of(request), query)
    return render(request, "affinity.html", user=user, **context)
