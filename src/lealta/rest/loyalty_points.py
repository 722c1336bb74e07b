"""Loyalty points (admin key): a contact's balance and ledger, adjustments, redemptions into
vouchers, the liability report, and a sweep on demand.

* ``GET /v1/contacts/{id}/loyalty/points``: balance, its value, points expiring soon by day.
* ``GET /v1/contacts/{id}/loyalty/points/history``: the ledger, newest first, paged with
  ``before`` (the ``seq`` of the last entry of the previous page; ``next_before`` gives it).
* ``POST /v1/contacts/{id}/loyalty/points/adjust``: add or take points by hand, with a reason.
* ``POST /v1/contacts/{id}/loyalty/points/redeem``: points into a voucher of a redemption
  option; ``key`` makes it idempotent (a retry, even concurrent, pays one voucher). 409 when
  the points do not cover it.
* ``GET /v1/loyalty/points/liability``: points outstanding and their value.
* ``POST /v1/loyalty/points/sweep``: run the worker's points sweep now.

The shop's one-call card ``GET /v1/contacts/{id}/loyalty`` carries the balance too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lealta.contacts.schemas import UtcTime
from lealta.loyalty import ledger, service
from lealta.loyalty.points import KINDS
from lealta.loyalty.points_sweeps import Swept, sweep
from lealta.loyalty.tables import PointsEntry
from lealta.rest.auth import Caller, require_admin, services
from lealta.rest.contacts import ContactId, ContactRoute
from lealta.rest.vouchers import VoucherOut
from lealta.rest.vouchers import out as voucher_out

router = APIRouter(prefix="/v1", tags=["loyalty"], route_class=ContactRoute)
MAX_PAGE = 500


class ExpiringOut(BaseModel):
    """Points that expire on one day."""

    expires_on: dt.date = Field(description="From this day the points are gone.")
    points: int = Field(description="Points held that expire that day.")


class BalanceOut(BaseModel):
    """A contact's points now."""

    contact_id: str = Field(description="The contact (the survivor when a merged id was given).")
    balance: int = Field(description="Points held (never below 0).")
    value: Decimal = Field(description="What they are worth, at the programme's point_value.")
    currency: str = Field(description="The programme's currency.")
    expiring: list[ExpiringOut] = Field(
        description="Points expiring within warn_days (at least 30 days), soonest first."
    )


class EntryOut(BaseModel):
    """One ledger entry (entries are never changed)."""

    seq: int = Field(description="The entry's number in the contact's ledger, from 1.")
    kind: str = Field(description=f"One of {', '.join(KINDS)}.")
    points: int = Field(description="Signed: credits above 0, debits below.")
    balance: int = Field(description="The balance after this entry.")
    reason: str = Field(description="Why, in words.")
    order_id: str | None = Field(description="The order that earned or returned the points.")
    voucher_code: str | None = Field(description="The voucher a redemption paid out.")
    rule: str | None = Field(description="The bonus rule that gave the points.")
    expires_on: dt.date | None = Field(description="A credit's expiry day (null: never).")
    unrecovered: int | None = Field(
        description="A return: points it could not take back (spent already)."
    )
    actor: str = Field(description="Who wrote it: `worker`, or the API key (`key:<id>`).")
    created_at: UtcTime


class HistoryOut(BaseModel):
    """A page of the ledger, newest first."""

    entries: list[EntryOut]
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null on the last page."
    )


class AdjustIn(BaseModel):
    """A manual adjustment."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    points: int = Field(
        ge=-1_000_000, le=1_000_000, description="Points to add (above 0) or take (below 0)."
    )
    reason: str = Field(min_length=1, max_length=500, description="Why (kept in the ledger).")
    key: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Idempotency key: the same adjustment again with it is made once.",
    )


class RedeemIn(BaseModel):
    """A redemption."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    option: str = Field(
        min_length=1, max_length=64, description="The code of one of the programme's options."
    )
    key: str = Field(
        min_length=1,
        max_length=200,
        description="Idempotency key (e.g. the checkout session): a retry with it, even at "
        "the same time, pays out the same voucher once.",
    )


class RedemptionOut(BaseModel):
    """A redemption's ledger entry and the voucher it paid out."""

    entry: EntryOut
    voucher: VoucherOut


class LiabilityOut(BaseModel):
    """Points outstanding over every contact, and what they are worth."""

    points: int = Field(description="Points held by all contacts.")
    value: Decimal = Field(description="Their value at point_value, in currency.")
    currency: str
    point_value: float = Field(description="What one point is worth.")
    holders: int = Field(description="Contacts holding points.")
    expiring_30_days: int = Field(description="Points that expire in the next 30 days.")
    earned: int = Field(description="Points ever credited for orders and bonus events.")
    redeemed: int = Field(description="Points ever turned into vouchers.")
    expired: int = Field(description="Points ever expired.")
    returned: int = Field(description="Points ever taken back for returned orders.")
    not_recovered: int = Field(
        description="Points returns should have taken back but could not (already spent)."
    )
    adjusted: int = Field(description="Net points ever adjusted by hand.")


class SweepOut(BaseModel):
    """What a sweep wrote."""

    orders: int = Field(description="Orders credited.")
    earned: int = Field(description="Points they earned.")
    bonuses: int = Field(description="Bonus events credited (capped ones included).")
    bonus_points: int
    returns: int = Field(description="Returned orders whose points were taken back.")
    returned: int = Field(description="Points taken back.")
    not_recovered: int = Field(description="Points returns could not take back (spent).")
    expired_contacts: int
    expired: int = Field(description="Points expired.")
    warned: int = Field(description="'Loyalty Points Expiring' events written.")
    merged: int = Field(description="Points moved from merged profiles to their survivors.")


def entry_out(entry: PointsEntry) -> EntryOut:
    """The API shape of a ledger entry."""
    return EntryOut(
        seq=entry.seq,
        kind=entry.kind,
        points=entry.points,
        balance=entry.balance,
        reason=entry.reason,
        order_id=entry.order_id,
        voucher_code=entry.voucher_code,
        rule=entry.rule,
        expires_on=entry.expires_on,
        unrecovered=entry.unrecovered,
        actor=entry.actor,
        created_at=entry.created_at,
    )


def balance_out(found: ledger.Balance, currency: str) -> BalanceOut:
    """The API shape of a balance."""
    return BalanceOut(
        contact_id=found.contact_id,
        balance=found.balance,
        value=found.value,
        currency=currency,
        expiring=[ExpiringOut(expires_on=day, points=points) for day, points in found.expiring],
    )


def card_points(session: Session, contact_id: str, *, now: dt.datetime) -> BalanceOut | None:
    """The points part of the loyalty card (None when the programme has no points)."""
    stored = service.get(session)
    if stored is None or stored.program.points is None:
        return None
    held = ledger.balance(session, contact_id, stored.program, today=now.date())
    return balance_out(held, stored.program.currency)


def _actor(caller: Caller) -> str:
    return f"key:{caller.key_id}"


def _person(session: Session, contact_id: str) -> str:
    from lealta.contacts.service import get_live

    return get_live(session, contact_id).id


@router.get("/contacts/{contact_id}/loyalty/points", response_model=BalanceOut)
def points_balance(
    request: Request, contact_id: ContactId, _caller: Caller = Depends(require_admin)
) -> BalanceOut:
    """The contact's balance, its value, and the points expiring soon (by day)."""
    found = services(request)
    today = found.clock.now().date()
    with found.uow.transaction() as session:
        program = service.require(session).program
        held = ledger.balance(session, _person(session, contact_id), program, today=today)
        return balance_out(held, program.currency)


@router.get("/contacts/{contact_id}/loyalty/points/history", response_model=HistoryOut)
def points_history(
    request: Request,
    contact_id: ContactId,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Entries per page.")] = 50,
    before: Annotated[
        int | None,
        Query(ge=1, le=2**63 - 1, description="Entries numbered below this (`next_before`)."),
    ] = None,
    _caller: Caller = Depends(require_admin),
) -> HistoryOut:
    """The contact's ledger, newest first, a page at a time."""
    with services(request).uow.transaction() as session:
        rows = ledger.history(session, _person(session, contact_id), limit=limit, before=before)
        more = len(rows) == limit and rows[-1].seq > 1
        return HistoryOut(
            entries=[entry_out(r) for r in rows], next_before=rows[-1].seq if more else None
        )


@router.post("/contacts/{contact_id}/loyalty/points/adjust", response_model=EntryOut)
def points_adjust(
    request: Request,
    contact_id: ContactId,
    body: AdjustIn,
    caller: Caller = Depends(require_admin),
) -> EntryOut:
    """Add or take points by hand, with a reason. 400 for 0 points (``field: points``), 409
    when taking more than the balance."""
    found = services(request)
    now = found.clock.now()
    key = body.key or f"adjust:{uuid.uuid4().hex}"

    def work(session: Session) -> EntryOut:
        program = service.require(session).program
        entry = ledger.adjust(
            session,
            contact_id,
            program,
            points=body.points,
            reason=body.reason,
            key=key,
            now=now,
            actor=_actor(caller),
        )
        return entry_out(entry)

    return ledger.write(found.uow, work)


@router.post("/contacts/{contact_id}/loyalty/points/redeem", response_model=RedemptionOut)
def points_redeem(
    request: Request,
    contact_id: ContactId,
    body: RedeemIn,
    caller: Caller = Depends(require_admin),
) -> RedemptionOut:
    """Turn points into the voucher of a redemption option, once per ``key``. 400 for an
    unknown option (``field: option``), 409 when the points do not cover it."""
    found = services(request)
    now = found.clock.now()

    def work(session: Session) -> RedemptionOut:
        program = service.require(session).program
        done = ledger.redeem(
            session,
            contact_id,
            program,
            option=body.option,
            key=body.key,
            now=now,
            actor=_actor(caller),
        )
        return RedemptionOut(entry=entry_out(done.entry), voucher=voucher_out(done.voucher))

    return ledger.write(found.uow, work)


@router.get("/loyalty/points/liability", response_model=LiabilityOut)
def points_liability(request: Request, _caller: Caller = Depends(require_admin)) -> dict[str, Any]:
    """Points outstanding over every contact and their value; points expiring in 30 days."""
    found = services(request)
    today = found.clock.now().date()
    with found.uow.transaction() as session:
        program = service.require(session).program
        return dataclasses.asdict(ledger.liability(session, program, today=today))


@router.post("/loyalty/points/sweep", response_model=SweepOut)
def points_sweep(request: Request, _caller: Caller = Depends(require_admin)) -> dict[str, Any]:
    """Credit new orders and bonus events, take back returns, expire and warn now (the
    worker does it every five minutes). 404 without a programme with points."""
    found = services(request)
    with found.uow.transaction() as session:
        ledger.points_of(service.require(session).program)  # 404 without points
    swept = sweep(found)
    return dataclasses.asdict(swept) if swept is not None else dataclasses.asdict(Swept())
