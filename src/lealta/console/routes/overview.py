"""The landing page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from lealta.console.auth import SignedIn, signed_in
from lealta.console.overview_page import overview_context
from lealta.console.rendering import render
from lealta.overview.summary import OverviewSummary

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """The landing page: the figures that matter, each linked to the people behind it."""
    summary: OverviewSummary = request.app.state.overview
    return render(request, "overview.html", user=user, **overview_context(summary.read()))
