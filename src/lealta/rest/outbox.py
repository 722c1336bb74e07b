"""``GET /v1/outbox``: messages decided, held, being sent, sent, failed or suppressed; admin key.

A message ``held`` waits for the end of the contact's quiet hours: ``hold`` names the rule and
its setting, ``error`` says why in words, ``not_before`` is when it goes out.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from lealta.channels import outbox
from lealta.channels.tables import OutboxMessage
from lealta.contacts.schemas import UtcTime
from lealta.rest.auth import require_admin, services

router = APIRouter(prefix="/v1", tags=["outbox"], dependencies=[Depends(require_admin)])

Status = Literal["pending", "held", "claimed", "sending", "sent", "failed", "suppressed"]


class OutboxOut(BaseModel):
    """One message of the outbox."""

    id: int
    idempotency_key: str = Field(description="Unique; repeated deliveries reuse it.")
    contact_id: str
    run_id: str | None = Field(description="The workflow run that decided it, if any.")
    channel: str
    template: str
    payload: dict[str, Any] = Field(description="Template data.")
    priority: int = Field(description="Higher goes first (transactional 10, bulk 0).")
    status: Status
    attempts: int = Field(description="Times it was handed to the channel.")
    not_before: UtcTime = Field(description="Not delivered before this moment.")
    created_at: UtcTime
    sent_at: UtcTime | None
    provider_id: str | None = Field(description="The provider's id of the delivered message.")
    error: str | None = Field(
        description="Why it failed, was suppressed, is retrying or is held (e.g. 'quiet hours "
        "21:00-08:00 in Europe/Rome until 2025-06-03 08:00 local time')."
    )
    hold: str | None = Field(
        description="While held: the rule holding it and its setting ('quiet_hours 21:00-08:00')."
    )


class OutboxPage(BaseModel):
    """Messages, newest first."""

    messages: list[OutboxOut]


@router.get("/outbox", response_model=OutboxPage)
def list_outbox(
    request: Request,
    status: Annotated[
        Status | None, Query(description="Only messages in this state (`held`: quiet hours).")
    ] = None,
    contact_id: Annotated[str | None, Query(description="Only this contact's.")] = None,
    run_id: Annotated[str | None, Query(description="Only this workflow run's.")] = None,
    limit: Annotated[int, Query(ge=1, le=outbox.MAX_LIST)] = 100,
) -> OutboxPage:
    """The outbox, newest first."""
    with services(request).uow.transaction() as session:
        rows = outbox.list_(
            session, status=status, contact_id=contact_id, run_id=run_id, limit=limit
        )
        return OutboxPage(messages=[_out(row) for row in rows])


def _out(row: OutboxMessage) -> OutboxOut:
    return OutboxOut.model_validate({name: getattr(row, name) for name in OutboxOut.model_fields})
