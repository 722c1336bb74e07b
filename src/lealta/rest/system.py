"""Health and status endpoints."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from lealta import __version__
from lealta.rest.auth import Caller, require_admin, services
from lealta.rest.errors import ApiError
from lealta.tracking.status import inbox_status

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
    """The tracking inbox: messages waiting to be applied, messages set aside after an error,
    and how far behind the processor is (seconds the oldest waiting message has waited)."""
    found = services(request)
    with found.inbox.transaction() as session:
        inbox = inbox_status(session)
    return {
        "inbox": {
            "waiting": inbox.waiting,
            "failed": inbox.failed,
            "oldest_waiting_at": inbox.oldest_waiting_at,
            "lag_seconds": round(inbox.lag_seconds(found.clock.now()), 3),
        }
    }
