"""The loyalty programme (admin key) and a contact's loyalty card for the shop.

* ``GET|PUT /v1/loyalty/program``: the programme in force with its version; a PUT (JSON, or
  YAML with ``Content-Type: application/yaml``) is validated whole and saved as a new version.
* ``POST /v1/loyalty/assign``: review every customer's tier now.
* ``GET /v1/contacts/{id}/loyalty``: tier, since, until, benefits with their codes and the
  progress to the next tier. An admin key reads anyone. A track (write) key, public in the
  shop's pages, reads only the visitor it identifies: by ``anonymousId`` (the snippet's
  random id) or by ``userId`` signed with ``userHash`` (see :mod:`lealta.loyalty.visitors`),
  and the id must lead to the contact asked for, else 403.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from lealta.identity.service import find_contact
from lealta.loyalty import service
from lealta.loyalty.program import dump
from lealta.loyalty.visitors import hash_matches
from lealta.rest.auth import Caller, authenticate, key_from_headers, require_admin, services
from lealta.rest.contacts import ContactId, ContactRoute
from lealta.rest.documents import JSON_OR_YAML, document_text
from lealta.rest.errors import ApiError
from lealta.rest.loyalty_points import BalanceOut, card_points
from lealta.storage.retry import in_transaction

router = APIRouter(prefix="/v1/loyalty", tags=["loyalty"])
cards = APIRouter(prefix="/v1", tags=["loyalty"], route_class=ContactRoute)
MAX_ID = 200


class ProgramOut(BaseModel):
    """The programme in force."""

    version: int = Field(description="Raised by one at each save.")
    saved_at: dt.datetime
    program: dict[str, Any]


class ReviewOut(BaseModel):
    """What a review did."""

    version: int = Field(description="The programme version applied.")
    as_of: dt.date = Field(description="The day the orders and spend windows end (excluded).")
    customers: int = Field(description="Customers in a tier after the review.")
    tiers: dict[str, int] = Field(description="Customers per tier, lowest first.")
    upgraded: int
    downgraded: int
    at_risk: int = Field(default=0, description="Customers who started falling (an event each).")
    seconds: float


class ProgressOut(BaseModel):
    """What is missing to reach the next tier."""

    next_tier: str
    orders: int | None = Field(description="Fewest more orders that alone reach it.")
    spend: float | None = Field(description="Least more spend that alone reaches it.")
    points: int | None = Field(
        default=None,
        description="Fewest more status points that alone reach it (a programme with points "
        "rules: points earned in the window; spending points does not lower them).",
    )
    words: str = Field(description="e.g. '2 more orders or €140 to Gold before 31 March'.")
    before: dt.date | None = Field(
        default=None,
        description="The first day an order counted now leaves its window (more is needed "
        "from then on); none when nothing can lapse.",
    )


class DecisionOut(BaseModel):
    """The tier is given by decision, not earned (see PUT .../loyalty/override)."""

    reason: str
    until: dt.date | None = Field(description="Last day of the decision; none: until removed.")
    set_by: str
    set_at: dt.datetime


class KeepOut(BaseModel):
    """The tier is falling: what happens if nothing changes, and what keeps it."""

    to_tier: str | None = Field(description="The tier it drops to (none: no tier).")
    drops_on: dt.date = Field(description="The first day a review takes the tier down.")
    words: str = Field(description="e.g. '1 more order keeps you Gold'.")


class LoyaltyOut(BaseModel):
    """A contact's loyalty, for the shop's checkout and pages."""

    contact_id: str
    program: str
    program_version: int
    currency: str
    tier: str | None = Field(description="None: in no tier (not eligible, or no orders).")
    since: dt.date | None
    until: dt.date | None = Field(description="The tier is kept at least until this day.")
    qualified_by: str | None
    score_sum: int | None
    benefits: list[dict[str, Any]] = Field(description="Each with the code the checkout reads.")
    progress: ProgressOut | None
    by_decision: DecisionOut | None = Field(
        default=None, description="Set when the tier is given by decision, with why and until."
    )
    keep: KeepOut | None = Field(
        default=None, description="Set while the tier is falling: the drop and what keeps it."
    )
    points: BalanceOut | None = Field(
        default=None,
        description="The points balance and what expires soon (null: the programme has no points).",
    )


def _program_out(stored: service.Stored) -> dict[str, Any]:
    return {"version": stored.version, "saved_at": stored.saved_at, "program": dump(stored.program)}


@router.get("/program", response_model=ProgramOut)
def read_program(request: Request, _caller: Caller = Depends(require_admin)) -> dict[str, Any]:
    """The programme in force and its version (404 while none is saved)."""
    with services(request).uow.transaction() as session:
        return _program_out(service.require(session))


@router.put(
    "/program",
    response_model=ProgramOut,
    openapi_extra=JSON_OR_YAML,
)
async def replace_program(
    request: Request, _caller: Caller = Depends(require_admin)
) -> dict[str, Any]:
    """Save a new version of the programme (JSON or YAML; see ``lealta loyalty schema``).

    The whole document is validated first: a bad one is refused (400) with every problem
    named by its place (``tiers[Gold].qualify.score_sum: …``) and ``field`` the first one.
    Tiers are not reviewed until ``POST /v1/loyalty/assign`` or the next RFM computation.
    """
    text = await document_text(request)
    found = services(request)
    now = found.clock.now()
    stored = in_transaction(found.uow, lambda session: service.save(session, text, now=now))
    return _program_out(stored)


@router.post("/assign", response_model=ReviewOut)
def assign(request: Request, _caller: Caller = Depends(require_admin)) -> dict[str, Any]:
    """Review every customer's tier now (RFM scores as last computed, orders as stored)."""
    review = service.apply_program(services(request))
    if review is None:
        raise ApiError(404, "not_found", service.NO_PROGRAM)
    return dataclasses.asdict(review)


def _visitor_id(value: str | None, field: str) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > MAX_ID:
        raise ApiError(400, "invalid_input", f"{field} is at most {MAX_ID} characters", field=field)
    return value


@cards.get("/contacts/{contact_id}/loyalty", response_model=LoyaltyOut)
def contact_loyalty(
    request: Request,
    contact_id: ContactId,
    user_id: Annotated[str | None, Query(alias="userId")] = None,
    anonymous_id: Annotated[str | None, Query(alias="anonymousId")] = None,
    user_hash: Annotated[
        str | None,
        Query(
            alias="userHash",
            description="With a track key and userId: hex HMAC-SHA256 of the userId under "
            "the identity secret (`lealta loyalty identity-secret`), computed by the shop's "
            "server.",
        ),
    ] = None,
) -> dict[str, Any]:
    """The contact's tier, since and until when, benefits with codes, and progress.

    Admin key: any contact. Track key: only the visitor identified by ``anonymousId`` (the
    snippet's random id) or by ``userId`` signed with ``userHash``, which must lead to this
    contact (403 otherwise).
    """
    caller = authenticate(request, key_from_headers(request), scopes=("track", "admin"))
    uid = _visitor_id(user_id, "userId")
    aid = _visitor_id(anonymous_id, "anonymousId")
    found = services(request)
    now = found.clock.now()
    if caller.scope != "admin" and uid is not None:
        if not user_hash:
            raise ApiError(
                403,
                "forbidden",
                "a track key proves a userId with userHash (signed by the shop's server: "
                "see `lealta loyalty identity-secret`)",
                field="userHash",
            )
        if not hash_matches(found.settings.secret_key, uid, user_hash):
            raise ApiError(403, "forbidden", "userHash does not sign this userId", field="userHash")

    def work(session: Session) -> dict[str, Any]:
        if caller.scope != "admin":
            _check_visitor(session, contact_id, uid, aid)
        card = _card_out(service.card(session, contact_id, now=now))
        return card | {"points": card_points(session, card["contact_id"], now=now)}

    return in_transaction(found.uow, work)


def _check_visitor(session: Session, contact_id: str, uid: str | None, aid: str | None) -> None:
    """Refuse a track key unless the visitor's ids lead to ``contact_id`` (merges followed)."""
    from lealta.identity.service import survivor

    if uid is None and aid is None:
        raise ApiError(
            403,
            "forbidden",
            "a track key reads only the identified visitor's loyalty: give userId or anonymousId",
        )
    try:
        wanted = survivor(session, contact_id).id
    except LookupError:
        wanted = None
    for kind, value in (("user_id", uid), ("anonymous_id", aid)):
        visitor = find_contact(session, kind, value) if value else None
        if visitor is not None and wanted is not None and visitor.id == wanted:
            return
    raise ApiError(
        403, "forbidden", "a track key reads only the loyalty of the visitor it identifies"
    )


def _card_out(found: service.Card) -> dict[str, Any]:
    program = found.stored.program
    tier = found.tier
    benefits = program.benefits_of(tier.tier) if tier else []
    return {
        "contact_id": found.contact_id,
        "program": program.name,
        "program_version": found.stored.version,
        "currency": program.currency,
        "tier": tier.tier if tier else None,
        "since": tier.since if tier else None,
        "until": tier.until if tier else None,
        "qualified_by": tier.qualified_by if tier else None,
        "score_sum": tier.score_sum if tier else None,
        "benefits": [b.model_dump(mode="json") for b in benefits],
        "progress": found.progress,
        "by_decision": _decision_out(found),
        "keep": found.keep,
    }


def _decision_out(found: service.Card) -> dict[str, Any] | None:
    decision = found.decision
    if decision is None:
        return None
    return {
        "reason": decision.reason,
        "until": decision.until,
        "set_by": decision.set_by,
        "set_at": decision.set_at,
    }
