"""Product affinity (admin key): the pairs bought together or in sequence, each contact's
next-best items, and their recomputation in the background.

* ``GET /v1/affinity``: the strongest pairs of the store's order lines, computed on request
  (DuckDB over an export of the orders' items; a few seconds for a large store).
* ``GET /v1/contacts/{id}/next-best``: the contact's next-best categories or products, as
  the latest ``next_best`` run saved them.
* ``POST /v1/affinity/next-best/jobs``: recompute every contact's next-best items in the
  background (202 with the job; ``GET /v1/jobs/{id}`` follows it).

Definitions of every figure: :mod:`lealta.affinity.pairs` and :mod:`lealta.affinity.next_best`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from lealta.contacts.schemas import UtcTime
from lealta.rest.auth import Caller, require_admin, services
from lealta.rest.contacts import ContactId, ContactRoute
from lealta.rest.queueing import QUEUES, queue_job

router = APIRouter(prefix="/v1", tags=["affinity"], route_class=ContactRoute)
MAX_PAIRS = 1000


class PairOut(BaseModel):
    """Two items and how strongly the first leads to the second."""

    item_a: str = Field(description="The first item (category or product id).")
    item_b: str = Field(description="The second item.")
    name_a: str | None = Field(
        None, description="By product: the first product's name (the latest the shop sent)."
    )
    name_b: str | None = Field(None, description="By product: the second product's name.")
    n_ab: int = Field(description="Baskets holding both (in sequence: customers going A→B).")
    n_a: int = Field(description="Baskets (customers) with the first item.")
    n_b: int = Field(description="Baskets (customers) with the second item.")
    n: int = Field(description="Baskets (customers) in all.")
    support: float = Field(description="n_ab / n.")
    confidence: float = Field(description="n_ab / n_a: P(second | first).")
    lift: float = Field(description="confidence / (n_b / n); above 1: more than by chance.")


class PairsOut(BaseModel):
    """The strongest pairs, by lift, then count, then name."""

    by: Literal["category", "product"]
    sequence: bool = Field(description="Pairs in sequence (true) or together in a basket.")
    as_of: dt.date = Field(description="Lines before this day counted.")
    lines: int = Field(description="Order lines used.")
    pairs: list[PairOut]


class NextBestItem(BaseModel):
    """One suggestion."""

    rank: int = Field(description="1 = the best suggestion.")
    item: str = Field(description="The category or product suggested.")
    kind: Literal["category", "product"]
    score: float = Field(description="Sum (or max) of the sequence confidences leading to it.")


class NextBestOut(BaseModel):
    """A contact's next-best items, best first (empty before the first run)."""

    contact_id: str = Field(description="The contact (the survivor when a merged id was given).")
    items: list[NextBestItem]
    computed_at: UtcTime | None = Field(description="When the run that saved them finished.")


class NextBestJobRequest(BaseModel):
    """Options of a next-best recomputation (defaults: the settings' ``next_best_by``,
    every order, any gap, at least 2 customers per rule, 3 items per contact)."""

    model_config = ConfigDict(extra="forbid")

    by: Literal["category", "product"] | None = None
    window_days: int | None = Field(
        None, ge=1, le=36_500, description="Only the last N days count."
    )
    gap_days: int | None = Field(None, ge=1, le=36_500, description="B at most N days after A.")
    min_count: int | None = Field(None, ge=1, le=2**31 - 1, description="Customers a rule needs.")
    top: int | None = Field(None, ge=1, le=100, description="Items kept per contact.")


@router.get("/affinity", response_model=PairsOut)
def affinity_pairs(
    request: Request,
    by: Annotated[Literal["category", "product"], Query(description="What to pair.")] = (
        "category"
    ),
    sequence: Annotated[
        bool, Query(description="Pairs bought in sequence (A first, B later) instead.")
    ] = False,
    window_days: Annotated[
        int | None, Query(ge=1, le=36_500, description="Only the last N days before as_of count.")
    ] = None,
    gap_days: Annotated[
        int | None, Query(ge=1, le=36_500, description="In sequence: B at most N days after A.")
    ] = None,
    min_count: Annotated[
        int, Query(ge=1, le=2**31 - 1, description="Baskets (customers) a pair needs.")
    ] = 2,
    min_support: Annotated[
        float, Query(ge=0, le=1, description="Share of baskets (customers) a pair needs.")
    ] = 0.0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAIRS, description="Pairs answered.")] = 100,
    _caller: Caller = Depends(require_admin),
) -> dict[str, Any]:
    """The strongest pairs of the store's order lines (400 when no order has items)."""
    from lealta.affinity.lines import item_names
    from lealta.affinity.options import AffinityOptions
    from lealta.affinity.store import pairs_from_store

    options = AffinityOptions(
        by=by,
        window_days=window_days,
        gap_days=gap_days,
        min_count=min_count,
        min_support=min_support,
    )
    lines, pairs = pairs_from_store(services(request), options, sequence=sequence, limit=limit)
    names = item_names(lines)
    for pair in pairs:
        pair["name_a"] = names.get(str(pair["item_a"]))
        pair["name_b"] = names.get(str(pair["item_b"]))
    return {
        "by": by,
        "sequence": sequence,
        "as_of": lines.as_of,
        "lines": lines.rows_kept,
        "pairs": pairs,
    }


@router.get("/contacts/{contact_id}/next-best", response_model=NextBestOut)
def contact_next_best(
    request: Request, contact_id: ContactId, _caller: Caller = Depends(require_admin)
) -> NextBestOut:
    """The contact's next-best categories or products, best first."""
    from lealta.affinity.store import list_for_contact
    from lealta.contacts.service import get_live

    with services(request).uow.transaction() as session:
        contact = get_live(session, contact_id)
        rows = list_for_contact(session, contact.id)
        return NextBestOut(
            contact_id=contact.id,
            items=[
                NextBestItem(rank=r.rank, item=r.item, kind=r.kind, score=r.score)  # type: ignore[arg-type]
                for r in rows
            ],
            computed_at=rows[0].computed_at if rows else None,
        )


@router.post(
    "/affinity/next-best/jobs",
    **QUEUES,
)
async def queue_next_best(
    request: Request,
    body: NextBestJobRequest | None = None,
    caller: Caller = Depends(require_admin),
) -> Any:
    """Recompute every contact's next-best items in the background (202 with the job; the
    one already queued or running is answered instead, 200)."""
    from lealta.affinity.schedule import KIND

    return await queue_job(request, caller, kind=KIND, params=body)
