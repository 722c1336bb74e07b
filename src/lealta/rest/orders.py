"""Orders: ``POST /v1/orders`` (one or a batch), ``GET /v1/orders`` and RFM on them
(``POST /v1/segmentation/rfm``); admin key.

An order posted here becomes an ``Order Completed`` tracking message with ``messageId``
``order:<id>`` and goes through the one tracking pipeline: it is durable once answered (202),
and the processor then finds or creates the contact and writes the event and the ``orders``
row. Posting the same order again is harmless: it is stored once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from lealta.bootstrap import Services
from lealta.errors import InvalidInput, NotFound
from lealta.identity.service import survivor
from lealta.imports.messages import Customer, check_customer, order_message
from lealta.moments import Moment
from lealta.orders.records import OrderIn
from lealta.orders.tables import Order
from lealta.rest.auth import Caller, require_admin, services
from lealta.rest.errors import ApiError
from lealta.storage.retry import in_transaction
from lealta.tracking.intake import store
from lealta.tracking.messages import Normalized, normalize

router = APIRouter(tags=["orders"])

MAX_BATCH = 1000


class OrderRequest(OrderIn):
    """An order and the customer who placed it (at least one identifier)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    user_id: str | None = Field(None, description="Your id for the customer.")
    email: str | None = Field(None, description="The customer's e-mail address.")
    anonymous_id: str | None = Field(None, description="A device or browser id.")
    phone: str | None = Field(None, description="Phone number (E.164, or national).")


class OrderAccepted(BaseModel):
    """The order is stored durably and will reach the profile shortly."""

    accepted: bool = True
    messageId: str = Field(description="The tracking message id: order:<id>.")


class OrderBatch(BaseModel):
    """Up to 1,000 orders; each item has the fields of ``POST /v1/orders``."""

    model_config = ConfigDict(extra="forbid")

    orders: list[Any] = Field(
        max_length=MAX_BATCH, description="Orders, each shaped like the body of POST /v1/orders."
    )


class Refused(BaseModel):
    """Why one order of a batch was refused."""

    index: int
    field: str
    reason: str


class BatchAccepted(BaseModel):
    """The orders kept and the ones refused, one by one."""

    accepted: int = Field(description="Orders stored (repeats of stored orders included).")
    messageIds: list[str]
    rejected: list[Refused] = Field(default_factory=list)


class OrderOut(BaseModel):
    """A stored order."""

    id: str = Field(description="The shop's order id.")
    contact_id: str
    placed_at: dt.datetime
    amount: float
    currency: str
    channel: str | None
    payment_method: str | None
    due_date: dt.date | None
    paid_date: dt.date | None
    items: list[dict[str, Any]]


class OrderList(BaseModel):
    """Orders, newest first."""

    orders: list[OrderOut]


def _message(found: Services, order: OrderRequest, now: dt.datetime) -> Normalized:
    customer: Customer = check_customer(
        user_id=order.user_id,
        email=order.email,
        anonymous_id=order.anonymous_id,
        phone=order.phone,
        region=found.settings.default_phone_region,
    )
    return normalize(order_message(customer, order), received_at=now)


def _save(request: Request, messages: list[Normalized], now: dt.datetime) -> None:
    found = services(request)
    in_transaction(found.uow, lambda session: store(session, messages, received_at=now))
    processor = request.app.state.processor
    if processor is not None:
        processor.notify()


@router.post("/v1/orders", status_code=202, response_model=OrderAccepted)
async def post_order(
    request: Request, order: OrderRequest, _caller: Caller = Depends(require_admin)
) -> dict[str, Any]:
    """Record one order; it reaches the customer's profile through the tracking pipeline."""
    found = services(request)
    now = found.clock.now()
    message = _message(found, order, now)
    await run_in_threadpool(_save, request, [message], now)
    return {"accepted": True, "messageId": message.message_id}


@router.post("/v1/orders/batch", status_code=202, response_model=BatchAccepted)
async def post_orders(
    request: Request, body: OrderBatch, _caller: Caller = Depends(require_admin)
) -> dict[str, Any]:
    """Many orders; bad ones are refused one by one (index, field, reason), good ones kept."""
    found = services(request)
    now = found.clock.now()
    good: list[Normalized] = []
    refused: list[dict[str, Any]] = []
    for index, item in enumerate(body.orders):
        try:
            good.append(_message(found, OrderRequest.model_validate(item), now))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            refused.append({"index": index, "field": where, "reason": first["msg"]})
        except InvalidInput as exc:
            refused.append({"index": index, "field": exc.field or "", "reason": str(exc)})
    if refused and not good:
        first_refusal = refused[0]
        raise ApiError(
            400,
            "invalid_input",
            f"every order was refused; first: orders[{first_refusal['index']}]."
            f"{first_refusal['field']}: {first_refusal['reason']}",
            field=f"orders[{first_refusal['index']}].{first_refusal['field']}",
        )
    await run_in_threadpool(_save, request, good, now)
    return {
        "accepted": len(good),
        "messageIds": [m.message_id for m in good],
        "rejected": refused,
    }


@router.get("/v1/orders", response_model=OrderList)
def list_orders(
    request: Request,
    _caller: Caller = Depends(require_admin),
    contact_id: str | None = Query(None, description="Only this contact's orders."),
    since: Moment | None = Query(None, description="Placed at or after (ISO 8601)."),
    until: Moment | None = Query(None, description="Placed before (ISO 8601)."),
    limit: int = Query(100, ge=1, le=1000, description="At most this many orders."),
) -> dict[str, Any]:
    """Stored orders, newest first."""
    query = select(Order).order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit)
    if since is not None:
        query = query.where(Order.placed_at >= _utc(since))
    if until is not None:
        query = query.where(Order.placed_at < _utc(until))
    with services(request).uow.transaction() as session:
        if contact_id is not None:
            try:
                contact_id = survivor(session, contact_id).id
            except LookupError:
                raise NotFound(f"no contact {contact_id!r}") from None
            query = query.where(Order.contact_id == contact_id)
        rows = session.scalars(query).all()
        return {"orders": [_out(row) for row in rows]}


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _out(row: Order) -> dict[str, Any]:
    placed = row.placed_at if row.placed_at.tzinfo else row.placed_at.replace(tzinfo=dt.UTC)
    return {
        "id": row.external_id,
        "contact_id": row.contact_id,
        "placed_at": placed,
        "amount": float(row.amount),
        "currency": row.currency,
        "channel": row.channel,
        "payment_method": row.payment_method,
        "due_date": row.due_date,
        "paid_date": row.paid_date,
        "items": list(row.items or []),
    }


class SegmentCount(BaseModel):
    """Customers in one segment."""

    segment: str
    customers: int


class RfmComputed(BaseModel):
    """The outcome of an RFM run on the store (each contact's result is in ``contact_rfm``)."""

    as_of: dt.date = Field(description="The analysis date (the day after the last order).")
    customers: int = Field(description="Contacts scored.")
    segments: list[SegmentCount] = Field(description="Customers per segment, largest first.")


@router.post("/v1/segmentation/rfm", response_model=RfmComputed, tags=["segments"])
def compute_rfm(request: Request, _caller: Caller = Depends(require_admin)) -> dict[str, Any]:
    """Score every contact with orders by RFM (default options) and save the results."""
    from lealta.segmentation.store import rfm_from_store, segment_counts

    frame = rfm_from_store(services(request))
    counts = segment_counts(frame)
    return {
        "as_of": frame.attrs["lealta"]["as_of"],
        "customers": len(frame),
        "segments": [{"segment": name, "customers": n} for name, n in counts.items()],
    }
