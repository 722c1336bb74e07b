"""Predicted value on profiles (admin key).

* ``POST /v1/segmentation/clv``: fit BG/NBD and Gamma-Gamma on the store's orders and save
  every contact's P(alive), expected purchases and spend, lifetime value and churn band to
  ``contact_predictions``, in the background (a ``clv`` job: 202 with the job to follow at
  ``GET /v1/jobs/{id}``; the one already queued or running is answered instead, 200).
* ``GET /v1/contacts/{id}/prediction``: what the latest run saved for one contact.

Definitions of every figure: :mod:`lealta.prediction.models` and :mod:`lealta.prediction.bands`.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from lealta.contacts.schemas import UtcTime
from lealta.rest.auth import Caller, require_admin, services
from lealta.rest.contacts import ContactId, ContactRoute
from lealta.rest.queueing import QUEUES, queue_job

router = APIRouter(prefix="/v1", tags=["segments"], route_class=ContactRoute)


class ClvJobRequest(BaseModel):
    """Options of a prediction run (defaults: 90 days ahead, weeks, no discount, alert at 0.3)."""

    model_config = ConfigDict(extra="forbid")

    horizon_days: int | None = Field(
        None, ge=1, le=3650, description="How far ahead purchases and value are predicted."
    )
    period: Literal["week", "day"] | None = Field(
        None, description="The models' time unit (week as in Fader and Hardie's papers)."
    )
    discount: float | None = Field(
        None, ge=0, lt=1, description="Annual discount rate of the lifetime value (0.1 = 10 %)."
    )
    alert_below: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="A contact whose P(alive) falls from at least this to under it gets a "
        "'Churn Risk Rose' event (p_alive, previous, band), which can start a workflow.",
    )


class PredictionOut(BaseModel):
    """One contact's latest prediction."""

    contact_id: str
    p_alive: float = Field(description="Probability the customer has not churned (BG/NBD).")
    expected_purchases: float = Field(description="Purchases expected over the horizon.")
    expected_spend: float = Field(description="Mean spend per purchase (Gamma-Gamma).")
    clv: float = Field(description="Value expected over the horizon (discounted if asked).")
    churn_band: str = Field(description="low, medium, high or new (one purchase only).")
    horizon_days: int
    params_version: str = Field(description="Names the fitted parameters of the run.")
    computed_at: UtcTime


@router.post(
    "/segmentation/clv",
    **QUEUES,
)
async def queue_clv(
    request: Request,
    body: ClvJobRequest | None = None,
    caller: Caller = Depends(require_admin),
) -> Any:
    """Predict every contact's value and churn risk from the store's orders in the
    background (202 with the job; the one already queued or running is answered, 200)."""
    from lealta.prediction.job import KIND

    return await queue_job(request, caller, kind=KIND, params=body)


@router.get("/contacts/{contact_id}/prediction", response_model=PredictionOut)
def contact_prediction(
    request: Request, contact_id: ContactId, _caller: Caller = Depends(require_admin)
) -> Any:
    """The contact's predicted value and churn risk from the latest ``clv`` run (404 when the
    run saved none for them: no orders, or no run yet)."""
    from lealta.contacts.service import get_live
    from lealta.errors import NotFound
    from lealta.prediction.store import predictions_of

    with services(request).uow.transaction() as session:
        contact = get_live(session, contact_id)
        found = predictions_of(session, [contact.id]).get(contact.id)
    if found is None:
        raise NotFound(f"no prediction for contact {contact.id!r} yet")
    return {"contact_id": contact.id, **found}
