"""How many customers a programme would put in each tier, before it is saved.

The preview is a review that writes nothing: the store's facts (the stored RFM scores, the
orders, the status points of the ledger when the programme has points rules, the tiers held
now) go through the same assignment
(:func:`lealta.loyalty.service.assign_orders`) and the same status rules
(:func:`lealta.loyalty.status.review`) as :func:`lealta.loyalty.service.apply_program`, with
the edited programme in place of the one in force.

Reading those facts is the slow part at a million customers (the orders are exported to a
Parquet file as a review does), so they are kept per store in ``services.memo`` under a
signature of the data (orders, scores and tiers: counts and latest ids or times). While the
signature holds, each new preview only runs the assignment on the kept file, as a statement
prepared once per programme and day (:mod:`lealta.loyalty.prepared`).

:func:`warm` does the slow first steps ahead of the first "Preview" (the Loyalty pages
start it in the background for marketers and admins): importing the engine, reading the
facts, preparing the statements of the programme in force (the preview's, and the contact
card's of the day). Profiled on the 1,000-customer demo (SQLite), a preview spent most of
its time in ibis building and compiling the same 50 kB of SQL, and DuckDB parsing it, at
every call; prepared once, a repeated preview or card takes a fraction of a second.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.errors import InvalidInput
from lealta.loyalty import prepared, service
from lealta.loyalty.facts import points_column
from lealta.loyalty.program import LoyaltyProgram
from lealta.loyalty.status_points import merge_points, status_points
from lealta.loyalty.tables import ContactTier, PointsEntry
from lealta.orders.tables import Order

if TYPE_CHECKING:
    from lealta.bootstrap import Services

log = logging.getLogger(__name__)
_WARMING = threading.Lock()
_WARMED: dict[int, tuple[Any, ...]] = {}  # per store (its memo): what the last warm-up saw


@dataclass(frozen=True)
class TierCount:
    """One tier in a preview: members now and with the previewed programme."""

    tier: str
    now: int
    preview: int
    qualify: int  # qualify for it today, before the status rules keep anyone higher


@dataclass(frozen=True)
class Preview:
    """The outcome of a review today under a programme, without writing it."""

    tiers: list[TierCount]  # highest first
    members_now: int
    members: int
    customers: int  # customers with orders or scores, the people a review judges
    upgraded: int
    downgraded: int
    as_of: dt.date
    seconds: float
    reused: bool  # the store's facts were kept from an earlier preview
    earning: dict[int, int] = field(default_factory=dict)  # per points window: earners


@dataclass
class _Facts:
    """A store's facts as a review reads them; the folder of the orders file goes with them
    (removed when the memo forgets them)."""

    orders: Path
    scores: Any
    rfm_as_of: dt.date | None
    current: Any
    gone: set[str]

    def __post_init__(self) -> None:
        weakref.finalize(self, shutil.rmtree, self.orders.parent, True)


def _signature(session: Session) -> tuple[Any, ...]:
    """What changes when the facts do: orders, stored scores, tiers, points ledger entries,
    erasures and merges."""
    from lealta.contacts.tables import Contact
    from lealta.segmentation.tables import ContactRfm

    orders = session.execute(select(func.count(), func.max(Order.id))).one()
    scores = session.execute(select(func.count(), func.max(ContactRfm.computed_at))).one()
    tiers = session.execute(select(func.count(), func.max(ContactTier.computed_at))).one()
    ledger = session.execute(select(func.count(), func.max(PointsEntry.id))).one()
    gone = session.execute(
        select(func.count()).where(
            (Contact.erased_at.is_not(None)) | (Contact.merged_into.is_not(None))
        )
    ).scalar()
    return (*orders, *scores, *tiers, *ledger, gone)


def _read_facts(services: Services, program: LoyaltyProgram) -> _Facts:
    from lealta.segmentation.store import export_orders

    path = Path(tempfile.mkdtemp(prefix="lealta-loyalty-preview-")) / "orders.parquet"
    try:
        with services.uow.transaction() as session:
            export_orders(session, path)
            scores, rfm_as_of = service._stored_scores(session, _rfm_of(program))
            gone = service._gone(session)
            current = service._without(service._current(session), gone)
    except BaseException:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    scores = scores[~scores["customer_id"].isin(gone)].reset_index(drop=True)
    return _Facts(path, scores, rfm_as_of, current, gone)


def _rfm_of(program: LoyaltyProgram) -> LoyaltyProgram:
    """``program`` scoring RFM: reading the scores must not refuse a programme here (the
    preview says so itself, for the programme previewed)."""
    return program.model_copy(update={"dimensions": "rfm"})


def _with_points(
    services: Services, program: LoyaltyProgram, scores: Any, signature: Any, as_of: dt.date
) -> Any:
    """``scores`` with the status points the programme's rules read (kept in the memo while
    the store's facts hold, per day and windows)."""
    days = tuple(program.points_windows())
    if not days:
        return scores

    def compute() -> Any:
        with services.uow.transaction() as session:
            return status_points(session, program, as_of=as_of)

    found = services.memo.get(("loyalty-preview-points", signature, as_of, days), compute)
    return merge_points(scores, found)


def _earners(scores: Any, program: LoyaltyProgram) -> dict[int, int]:
    """Per window of the programme's points rules: customers with status points in it (a
    marketer sees at once when a points rule can hold for no one yet)."""
    return {days: int((scores[points_column(days)] > 0).sum()) for days in program.points_windows()}


def warm(services: Services) -> None:
    """A preview of the programme in force, thrown away: what the next preview needs is then
    ready (see the module docstring). Done once per state of the store, programme version and
    day (a page opened again finds it done). Never raises (it only saves time)."""
    try:
        with services.uow.transaction() as session:
            stored = service.get(session)
            signature = _signature(session)
        prepared.warm_up()
        if stored is None:
            return
        done = ("loyalty-preview-warm", signature, stored.version, services.clock.now().date())
        if _WARMED.get(id(services.memo)) == done:
            return
        preview(services, stored.program)
        now = services.clock.now()
        with services.uow.transaction() as session:  # a card: its statement for today
            someone = session.scalar(select(Order.contact_id).limit(1))
            if someone is not None:
                service.card(session, someone, now=now)
        _WARMED[id(services.memo)] = done
    except Exception:  # a store being changed, an RFMP programme without payment scores
        log.debug("could not warm the loyalty preview", exc_info=True)


def warm_unless_busy(services: Services) -> None:
    """:func:`warm`, unless another warm-up is under way in this process (then nothing).

    Pages run it as a background task after their answer is sent, so nobody waits for it."""
    if not _WARMING.acquire(blocking=False):
        return
    try:
        warm(services)
    finally:
        _WARMING.release()


def preview(
    services: Services, program: LoyaltyProgram, *, now: dt.datetime | None = None
) -> Preview:
    """Customers per tier if ``program`` were saved and reviewed now (nothing is written).

    Raises
    ------
    InvalidInput
        When ``program`` scores RFMP and the stored RFM has no payment scores.
    """
    from lealta.loyalty.status import review

    started = time.perf_counter()
    now = now or services.clock.now()
    with services.uow.transaction() as session:
        signature = _signature(session)
    key = ("loyalty-preview-facts", signature)
    reused = True

    def compute() -> _Facts:
        nonlocal reused
        reused = False
        return _read_facts(services, program)

    facts = services.memo.get(key, compute)
    scores = facts.scores
    if program.dimensions == "rfmp" and len(scores) and scores["p_score"].isna().all():
        raise InvalidInput(
            "the programme scores RFMP but the stored RFM has no payment scores: run RFM "
            "from the store with payment (e.g. `lealta rfm --from-store --payment promptness`)",
            field="dimensions",
        )
    as_of = facts.rfm_as_of or now.date()
    scores = _with_points(services, program, scores, signature, as_of)
    assigned = service._without(prepared.assign(facts.orders, program, scores, as_of), facts.gone)
    state, changes = review(facts.current, assigned, program, today=now.date())
    names = program.tier_names()
    held = facts.current["tier"].value_counts()
    after = state["tier"].value_counts()
    qualified = assigned["tier_rank"].dropna().astype("int64").value_counts()
    counts = [
        TierCount(
            name,
            int(held.get(name, 0)),
            int(after.get(name, 0)),
            int(qualified.get(rank, 0)),
        )
        for rank, name in reversed(list(enumerate(names, start=1)))
    ]
    upgraded = int((changes["direction"] == "up").sum())
    return Preview(
        tiers=counts,
        members_now=len(facts.current),
        members=len(state),
        customers=len(assigned),
        upgraded=upgraded,
        downgraded=len(changes) - upgraded,
        as_of=as_of,
        seconds=time.perf_counter() - started,
        reused=reused,
        earning=_earners(scores, program),
    )
