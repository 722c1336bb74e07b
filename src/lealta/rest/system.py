"""Health and status endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from lealta import __version__
from lealta.rest.auth import Caller, require_admin, services
from lealta.rest.errors import ApiError
from lealta.tracking.status import InboxStatus, every_inbox

router = APIRouter(tags=["system"])


class Health(BaseModel):
    """The server is up and reaches its database."""

    status: Literal["ok"] = Field(description="Always `ok` in a 200 answer.")
    version: str = Field(description="Lealta's version.")


@router.get(
    "/health",
    response_model=Health,
    summary="Liveness and database check",
    responses={503: {"description": "The database does not answer (`error.code`: `unavailable`)."}},
)
def health(request: Request) -> Health:
    """For load balancers, orchestrators and uptime checks; needs no key.

    Answers 200 once the server runs and one trivial query reaches the state database, 503
    when that query fails. It does not check the SMTP relay or other channel providers.
    """
    try:
        with services(request).uow.transaction() as session:
            session.execute(select(1))
    except SQLAlchemyError:
        raise ApiError(503, "unavailable", "the database does not answer") from None
    return Health(status="ok", version=__version__)


@router.get("/v1/status")
def status(request: Request, _caller: Caller = Depends(require_admin)) -> dict[str, Any]:
    """How far behind the tracking processor is, per inbox it drains: messages waiting to be
    applied, messages set aside after an error, and the seconds the oldest waiting message has
    waited (``lag_seconds``; 0 when none waits). ``inbox`` is the tracking inbox,
    ``inboxes`` lists each inbox by name (``tracking``, and ``state`` when the state
    database's own inbox is separate, as with SQLite), and the top-level ``lag_seconds`` is
    the largest."""
    found = services(request)
    now = found.clock.now()
    inboxes = {name: _inbox(inbox, now) for name, inbox in every_inbox(found).items()}
    return {
        "inbox": inboxes["tracking"],
        "inboxes": inboxes,
        "lag_seconds": max(inbox["lag_seconds"] for inbox in inboxes.values()),
    }


def _inbox(inbox: InboxStatus, now: dt.datetime) -> dict[str, Any]:
    return {
        "waiting": inbox.waiting,
        "failed": inbox.failed,
        "oldest_waiting_at": inbox.oldest_waiting_at,
        "lag_seconds": round(inbox.lag_seconds(now), 3),
    }
