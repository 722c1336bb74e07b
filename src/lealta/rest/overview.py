"""``GET /v1/overview``: the figures of the console's landing page, as data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from lealta.overview.summary import OverviewSummary
from lealta.rest.auth import require_admin

router = APIRouter(prefix="/v1", tags=["system"])


@router.get("/overview", dependencies=[Depends(require_admin)])
def overview(request: Request) -> dict[str, Any]:
    """Contacts by lifecycle stage, new contacts and revenue per day (last 90 days, with 30-
    and 90-day totals), customers and revenue per RFM segment and per R and F score, messages of the
    last 30 days per channel, workflows with the people in them, and the tracking inbox: what
    the console's overview shows. Computed on the spot while that is quick; on a large store
    it comes from a summary refreshed in the background, never older than a minute
    (``computed_at`` says when)."""
    summary: OverviewSummary = request.app.state.overview
    return summary.read().as_dict()
