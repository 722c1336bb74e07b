"""Trying a workflow on one contact over HTTP: what would happen, day by day (nothing written)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from lealta.automations import service
from lealta.automations import simulate as sim
from lealta.rest.auth import Caller, require_admin, services

router = APIRouter(prefix="/v1/automations", tags=["automations"])


class PlannedEvent(BaseModel):
    """Something the contact does during the simulation."""

    day: float = Field(ge=0, le=sim.MAX_DAYS, description="Days after entering (0: at once).")
    kind: Literal["opened", "clicked", "bought", "event"] = Field(
        description="Opens or clicks an e-mail, buys, or does another event."
    )
    template: str | None = Field(
        None, description="opened/clicked: which e-mail (default: the newest one sent)."
    )
    amount: str | None = Field(None, description='bought: the order\'s amount, e.g. "60".')
    currency: str | None = Field(None, description="bought: 3-letter currency (default EUR).")
    name: str | None = Field(None, description="event: the event's name.")


class Simulation(BaseModel):
    """Whom to simulate, for how long, doing what."""

    contact: str = Field(description="The contact's id or e-mail address.")
    days: float = Field(30.0, gt=0, le=sim.MAX_DAYS)
    events: list[PlannedEvent] = Field(default_factory=list, max_length=sim.MAX_EVENTS)
    render: bool = Field(True, description="Render each message (subject, text, HTML).")


@router.post("/{workflow_id}/simulate")
def simulate(
    workflow_id: str,
    body: Simulation,
    request: Request,
    _caller: Caller = Depends(require_admin),
) -> dict[str, Any]:
    """What the workflow would do to a real contact (profile and history as they are now) with
    the planned events: each step reached, path taken, message (rendered) and voucher, by day,
    and where the run ends. Nothing is written or sent; voucher codes are made up."""
    found = services(request)
    planned = sim.planned([event.model_dump() for event in body.events])
    with found.uow.transaction() as session:
        rules = service.definition(session, workflow_id)
        contact_id = sim.find_contact(session, body.contact)
        result = sim.simulate(
            session,
            found.settings,
            rules,
            contact_id,
            planned,
            now=found.clock.now(),
            days=body.days,
            render=body.render,
        )
    return result.as_dict()
