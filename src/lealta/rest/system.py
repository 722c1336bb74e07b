"""Health and status endpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select

from lealta import __version__
from lealta.rest.auth import Caller, require_admin, services
from lealta.tracking.tables import InboxMessage

router = APIRouter(tags=["system"])


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    """Liveness and database reachability (no key needed)."""
    with services(request).uow.transaction() as session:
        session.execute(select(1))
    return {"status": "ok", "version": __version__}


@router.get("/v1/status")
def status(request: Request, _caller: Caller = Depends(require_admin)) -> dict[str, Any]:
    """The tracking inbox: messages waiting to be applied and messages that failed."""
    with services(request).uow.transaction() as session:
        waiting = session.scalar(
            select(func.count()).select_from(InboxMessage).where(InboxMessage.failed_at.is_(None))
        )
        failed = session.scalar(
            select(func.count())
            .select_from(InboxMessage)
            .where(InboxMessage.failed_at.is_not(None))
        )
    return {"inbox": {"waiting": waiting, "failed": failed}}
