"""``GET /v1/overview``: the figures of the console's landing page, as data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from lealta.console.overview_page import load_overview
from lealta.rest.auth import require_admin, services

router = APIRouter(prefix="/v1", tags=["system"])


@router.get("/overview", dependencies=[Depends(require_admin)])
def overview(request: Request) -> dict[str, Any]:
    """Contacts by lifecycle stage, new contacts and revenue per day (last 90 days, with 30-
    and 90-day totals), customers and revenue per RFM segment and per R and F score, messages of the
    last 30 days per channel, workflows with the people in them, and the tracking inbox: what
    the console's overview shows, computed now."""
    return load_overview(services(request)).as_dict()
