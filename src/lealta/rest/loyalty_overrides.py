"""Tiers given by decision (admin key): see :mod:`lealta.loyalty.overrides`.

* ``PUT /v1/contacts/{id}/loyalty/override``: put the contact in a tier by decision, with a
  reason and optionally a last day (``until``, inclusive); replaces an earlier decision.
* ``DELETE /v1/contacts/{id}/loyalty/override``: end it now; the tier is then held under the
  programme's status rules (kept until today, then its grace) from the next review.
* ``GET /v1/loyalty/overrides``: the decisions in force (``include_expired=true``: all).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from lealta.loyalty import overrides
from lealta.loyalty.tables import TierOverride
from lealta.rest.auth import Caller, require_admin, services
from lealta.rest.contacts import ContactId, ContactRoute
from lealta.storage.retry import in_transaction

router = APIRouter(prefix="/v1", tags=["loyalty"], route_class=ContactRoute)


class OverrideIn(BaseModel):
    """A tier by decision."""

    tier: str = Field(min_length=1, max_length=64, description="A tier of the programme.")
    reason: str = Field(min_length=1, max_length=500, description="Why (shown on the card).")
    until: dt.date | None = Field(
        default=None, description="Last day of the decision (inclusive); none: until removed."
    )


class OverrideOut(BaseModel):
    """A tier by decision, and whether it is still in force."""

    contact_id: str
    tier: str
    reason: str
    until: dt.date | None
    set_by: str
    set_at: dt.datetime
    active: bool


class OverrideChange(BaseModel):
    """What setting or removing a decision did to the contact's tier."""

    contact_id: str
    tier_before: str | None
    tier: str | None = Field(description="The contact's tier now.")
    override: OverrideOut | None = Field(description="None once removed.")


class OverrideList(BaseModel):
    """Tiers by decision, newest first."""

    overrides: list[OverrideOut]


def _out(row: TierOverride, today: dt.date) -> dict[str, Any]:
    return {
        "contact_id": row.contact_id,
        "tier": row.tier,
        "reason": row.reason,
        "until": row.until,
        "set_by": row.set_by,
        "set_at": row.set_at,
        "active": overrides.is_active(row, today),
    }


def _change(found: overrides.Outcome, today: dt.date) -> dict[str, Any]:
    return {
        "contact_id": found.contact_id,
        "tier_before": found.before,
        "tier": found.after,
        "override": _out(found.override, today) if found.override is not None else None,
    }


@router.put("/contacts/{contact_id}/loyalty/override", response_model=OverrideChange)
def set_override(
    request: Request,
    contact_id: ContactId,
    body: OverrideIn,
    caller: Caller = Depends(require_admin),
) -> dict[str, Any]:
    """Put the contact in a tier by decision (an unknown tier: 400 naming ``tier``).

    The tier moves now; a move is recorded in the tier history with the reason and makes a
    ``Loyalty Tier Upgraded``/``Downgraded`` event. Reviews keep the tier until ``until``.
    """
    found = services(request)
    now = found.clock.now()

    def work(session: Session) -> dict[str, Any]:
        done = overrides.set_override(
            session,
            contact_id,
            tier=body.tier,
            reason=body.reason,
            until=body.until,
            set_by=f"api key {caller.key_id}",
            now=now,
        )
        return _change(done, now.date())

    return in_transaction(found.uow, work)


@router.delete("/contacts/{contact_id}/loyalty/override", response_model=OverrideChange)
def remove_override(
    request: Request, contact_id: ContactId, _caller: Caller = Depends(require_admin)
) -> dict[str, Any]:
    """End the contact's tier by decision now (404 when there is none). The tier stays; from
    the next review the status rules apply, with their grace."""
    found = services(request)
    now = found.clock.now()

    def work(session: Session) -> dict[str, Any]:
        return _change(overrides.remove_override(session, contact_id, now=now), now.date())

    return in_transaction(found.uow, work)


@router.get("/loyalty/overrides", response_model=OverrideList)
def list_overrides(
    request: Request,
    include_expired: Annotated[
        bool, Query(description="Also list decisions whose last day has passed.")
    ] = False,
    _caller: Caller = Depends(require_admin),
) -> dict[str, Any]:
    """The tiers given by decision, newest first."""
    found = services(request)
    today = found.clock.now().date()
    with found.uow.transaction() as session:
        rows = overrides.listed(session, include_expired=include_expired, today=today)
        return {"overrides": [_out(row, today) for row in rows]}
