"""``/v1/vouchers``: look up, issue and redeem voucher codes; admin key.

A shop's checkout calls ``POST /v1/vouchers/{code}/redeem`` with its order id: 200 with the
voucher when it worked (again 200 for a retry with the same order), 404 for an unknown code,
400 for an expired one, 409 when another order already used it. Codes may be typed any way:
case, spaces and dashes do not matter.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lealta.contacts.schemas import UtcTime
from lealta.rest.auth import require_admin, services
from lealta.storage.retry import in_transaction
from lealta.vouchers import service
from lealta.vouchers.codes import format_code
from lealta.vouchers.tables import Voucher

router = APIRouter(prefix="/v1", tags=["vouchers"], dependencies=[Depends(require_admin)])

Code = Annotated[str, Path(description="The voucher code; case, spaces and dashes are ignored.")]


class VoucherOut(BaseModel):
    """A voucher and whether it was used."""

    code: str = Field(description="The canonical code (upper case, no dashes).")
    display: str = Field(description="The code grouped for reading, as sent to customers.")
    contact_id: str
    kind: Literal["percent", "amount", "free_shipping"]
    value: Decimal = Field(description="Percent off, or the amount off in `currency`.")
    currency: str | None
    issued_at: UtcTime
    expires_at: UtcTime | None = Field(description="After this moment it cannot be redeemed.")
    redeemed_at: UtcTime | None
    redeemed_order: str | None = Field(description="The order that used it.")
    source: str = Field(description="What issued it (a workflow step, `api` …).")


class VoucherList(BaseModel):
    """Vouchers, newest first."""

    vouchers: list[VoucherOut]


class IssueIn(BaseModel):
    """A voucher to issue by hand."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    contact_id: str = Field(description="Who gets it (a merged id gives its survivor).")
    kind: Literal["percent", "amount", "free_shipping"]
    value: Decimal = Field(Decimal(0), description="Percent (0-100] or an amount above 0.")
    currency: str | None = Field(None, description="ISO 4217 code; needed for `amount`.")
    valid_days: int | None = Field(
        30, ge=1, le=3650, description="Days until it expires; `null` for never."
    )
    key: str | None = Field(
        None,
        max_length=200,
        description="Idempotency key: issuing again with it returns the same voucher.",
    )
    prefix: str = Field("", max_length=12, description="Letters shown before the code.")


class RedeemIn(BaseModel):
    """The order using the voucher."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    order_id: str = Field(min_length=1, max_length=128, description="The shop's order id.")


def out(voucher: Voucher) -> VoucherOut:
    """The API shape of a voucher."""
    return VoucherOut(
        code=voucher.code,
        display=format_code(voucher.code),
        contact_id=voucher.contact_id,
        kind=voucher.kind,  # type: ignore[arg-type]
        value=voucher.value,
        currency=voucher.currency,
        issued_at=voucher.issued_at,
        expires_at=voucher.expires_at,
        redeemed_at=voucher.redeemed_at,
        redeemed_order=voucher.redeemed_order,
        source=voucher.source,
    )


@router.post("/vouchers", response_model=VoucherOut, status_code=201)
def issue_voucher(request: Request, body: IssueIn) -> VoucherOut:
    """Issue a voucher to a contact (the same one again when `key` was used before)."""
    found = services(request)
    now = found.clock.now()
    key = body.key or f"api:{uuid.uuid4().hex}"

    def work(session: Session) -> VoucherOut:
        voucher = service.issue(
            session,
            key=key,
            contact_id=body.contact_id,
            kind=body.kind,
            value=body.value,
            currency=body.currency,
            valid_days=body.valid_days,
            now=now,
            source="api",
            prefix=body.prefix,
        )
        return out(voucher)

    return in_transaction(found.uow, work)


@router.get("/vouchers/{code}", response_model=VoucherOut)
def get_voucher(request: Request, code: Code) -> VoucherOut:
    """One voucher, redeemed or not."""
    with services(request).uow.transaction() as session:
        return out(service.get(session, code))


@router.post("/vouchers/{code}/redeem", response_model=VoucherOut)
def redeem_voucher(request: Request, code: Code, body: RedeemIn) -> VoucherOut:
    """Use a voucher for an order: 404 unknown, 400 expired, 409 used by another order."""
    found = services(request)
    now = found.clock.now()
    return in_transaction(
        found.uow,
        lambda session: out(service.redeem(session, code, order_id=body.order_id, now=now)),
    )


@router.get("/contacts/{contact_id}/vouchers", response_model=VoucherList)
def contact_vouchers(
    request: Request,
    contact_id: Annotated[str, Path(description="The contact (a merged id gives its survivor).")],
) -> VoucherList:
    """A contact's vouchers, newest first."""
    with services(request).uow.transaction() as session:
        return VoucherList(vouchers=[out(v) for v in service.list_for_contact(session, contact_id)])
