"""The loyalty programme in the state store, and tier reviews over every customer at once.

* The programme is kept versioned (``loyalty_programs``): saving validates the whole
  document and adds a version; the highest version is in force. With none saved, there is
  no programme and no review runs.
* :func:`apply_program` reviews every customer: their facts (RFM scores from ``contact_rfm``,
  orders and spend in the programme's windows from the ``orders`` table) go through the
  slice-1 assignment (:mod:`lealta.loyalty.assign`, on DuckDB), the status rules
  (:mod:`lealta.loyalty.status`) decide each tier, and only the rows of ``contact_tiers``
  that differ are written (:mod:`lealta.loyalty.stored_tiers`). Each change is a
  ``loyalty_tier_changes`` row and an event on the contact (``Loyalty Tier Upgraded`` /
  ``Loyalty Tier Downgraded``, with ``from`` and ``to`` in its properties) that starts the
  workflows it triggers, written set-wise (:mod:`lealta.loyalty.moves`).
* Contacts with a tier by decision keep it while it lasts (:mod:`lealta.loyalty.overrides`);
  a customer who starts falling gets one ``Loyalty Tier At Risk`` event per fall
  (:mod:`lealta.loyalty.risk`). The worker runs a review daily and partial reviews of the
  customers whose orders arrive (:mod:`lealta.loyalty.schedule`, :mod:`lealta.loyalty.partial`).
* Erased contacts and contacts merged into another are no members: a review leaves them out
  (an erased person's orders stay in the store with their id), so they get no tier, keep
  none and get no tier event.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Date, String, Table, func, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from lealta.errors import InvalidInput, NotFound
from lealta.loyalty.orders import orders_of
from lealta.loyalty.program import LoyaltyProgram, dump, load_program
from lealta.loyalty.status_points import point_columns, with_status_points
from lealta.loyalty.tables import ContactTier, LoyaltyProgramVersion, TierOverride

if TYPE_CHECKING:
    from lealta.bootstrap import Services

NO_PROGRAM = (
    "no loyalty programme is in force: save one with PUT /v1/loyalty/program or "
    "`lealta loyalty import FILE`"
)
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Stored:
    """The programme in force and its version."""

    program: LoyaltyProgram
    version: int
    saved_at: dt.datetime


@dataclass
class Review:
    """What a review did: customers per tier afterwards, and the moves."""

    version: int
    as_of: dt.date
    customers: int = 0
    tiers: dict[str, int] = field(default_factory=dict)
    upgraded: int = 0
    downgraded: int = 0
    at_risk: int = 0
    seconds: float = 0.0


# -- the programme ----------------------------------------------------------------------------


def get(session: Session) -> Stored | None:
    """The programme in force (the highest saved version), if any."""
    row = session.scalar(
        select(LoyaltyProgramVersion).order_by(LoyaltyProgramVersion.version.desc()).limit(1)
    )
    if row is None:
        return None
    return Stored(load_program(row.body), row.version, row.saved_at)


def require(session: Session) -> Stored:
    """The programme in force.

    Raises
    ------
    NotFound
        When none was saved yet.
    """
    found = get(session)
    if found is None:
        raise NotFound(NO_PROGRAM)
    return found


def save(session: Session, source: str | Mapping[str, Any], *, now: dt.datetime) -> Stored:
    """Validate ``source`` (YAML/JSON text or a mapping) whole and save it as a new version.

    Raises
    ------
    InvalidInput
        When the document is invalid (the field is the first problem's place).
    """
    program = load_program(source)
    latest = session.scalar(select(func.max(LoyaltyProgramVersion.version))) or 0
    row = LoyaltyProgramVersion(
        version=latest + 1, name=program.name, body=dump(program), saved_at=now
    )
    session.add(row)
    session.flush()
    return Stored(program, row.version, now)


# -- reviews ----------------------------------------------------------------------------------


def apply_program(
    services: Services,
    *,
    now: dt.datetime | None = None,
    as_of: dt.date | None = None,
    orders: Path | None = None,
    progress: Progress | None = None,
    only_if: Callable[[Session], bool] | None = None,
    then: Callable[[Session, Review], None] | None = None,
) -> Review | None:
    """Review every customer's tier under the programme in force (None: there is none).

    ``now`` (default: the services' clock) is the review's time: its day is the day of the
    status rules. ``as_of`` ends the orders and spend windows (default: the as-of date of the
    latest RFM computation in ``contact_rfm``, else ``now``'s day). ``orders`` is the store's
    orders already exported by :func:`lealta.segmentation.store.export_orders` (an RFM run's
    file); without it the review exports them itself.

    Contacts with a tier by decision (:mod:`lealta.loyalty.overrides`) keep it while it
    lasts; customers who start falling get a ``Loyalty Tier At Risk`` event
    (:mod:`lealta.loyalty.risk`). ``only_if`` is asked under the review's lock before anything
    is written (False: another worker did this review; nothing is written, None returned) and
    ``then`` runs in the same transaction after the writes (a schedule's mark).

    Raises
    ------
    InvalidInput
        When the programme scores RFMP and the stored RFM has no payment scores.
    """
    import time

    started = time.perf_counter()
    now = now or services.clock.now()
    tell = progress or _silent
    with services.uow.transaction() as session:
        stored = get(session)
        if stored is None:
            return None
        scores, rfm_as_of = _stored_scores(session, stored.program)
    as_of = as_of or rfm_as_of or now.date()
    with services.uow.transaction() as session:
        scores = with_status_points(session, scores, stored.program, as_of=as_of)
    tell(0.0, "Reading orders")
    assigned = _assigned(services, stored.program, scores, as_of, orders)
    tell(0.5, f"Reviewing {len(assigned):,} customers")
    review = Review(stored.version, as_of)
    with services.uow.transaction() as session:
        _lock(session, stored.version)
        if only_if is not None and not only_if(session):
            return None
        from lealta.loyalty import stored_tiers
        from lealta.loyalty.overrides import active, impose
        from lealta.loyalty.risk import at_risk
        from lealta.loyalty.status import review as decide

        today = now.date()
        gone = _gone(session)
        stored_rows = stored_tiers.read(session)
        current = _without(stored_rows, gone)
        assigned = _without(assigned, gone)
        state, changes = decide(current, assigned, stored.program, today=today)
        kept = {c: o for c, o in active(session, today).items() if c not in gone}
        state, changes = impose(current, state, changes, kept, stored.program, today=today)
        tell(0.6, f"Saving the tiers of {len(state):,} customers")
        stored_tiers.write(session, state, stored_rows, stored.version, now)
        tell(0.9, f"Recording {len(changes):,} tier changes")
        _record_changes(session, changes, stored.version, now)
        risky = at_risk(current, state, assigned, stored.program, today=today)
        _record_risks(session, risky, now)
        review.at_risk = len(risky)
        review.customers = len(state)
        counts = state["tier"].value_counts()
        review.tiers = {name: int(counts.get(name, 0)) for name in stored.program.tier_names()}
        review.upgraded = int((changes["direction"] == "up").sum())
        review.downgraded = len(changes) - review.upgraded
        _reviewed(session, stored.version, now)
        if then is not None:
            then(session, review)
    review.seconds = time.perf_counter() - started
    tell(1.0, f"Reviewed {len(assigned):,} customers")
    return review


def after_rfm(
    services: Services,
    *,
    as_of: dt.date,
    options: Mapping[str, Any],
    orders: Path | None = None,
) -> Review | None:
    """The review that follows an RFM computation from the store with ``options`` (those of
    :func:`lealta.segmentation.store.rfm_from_store`), reading the orders file it read
    (``orders``) rather than exporting the orders again. None when no programme is in force,
    or when the computation does not fit it: other score levels (``bins``, 5 by default), or
    no payment scores for an RFMP programme."""
    with services.uow.transaction() as session:
        stored = get(session)
    if stored is None or stored.program.levels != (options.get("bins") or 5):
        return None
    if stored.program.dimensions == "rfmp" and not options.get("payment"):
        return None
    return apply_program(services, as_of=as_of, orders=orders)


def _silent(_fraction: float, _step: str) -> None:
    """No one is following the progress."""


def _stored_scores(session: Session, program: LoyaltyProgram) -> tuple[Any, dt.date | None]:
    """The scores in ``contact_rfm`` as facts columns, and the computation's as-of date."""

    import pandas as pd

    from lealta.segmentation.tables import ContactRfm

    # pandas types the driver's rows itself: about 0.6 s less for a million than object
    # columns (:func:`_frame`) cast afterwards
    result = session.connection().execute(
        select(ContactRfm.contact_id, ContactRfm.r, ContactRfm.f, ContactRfm.m, ContactRfm.p)
    )
    rows = result.cursor.fetchall()
    result.close()
    frame = pd.DataFrame.from_records(
        rows, columns=["customer_id", "r_score", "f_score", "m_score", "p_score"]
    ).astype(
        {
            "customer_id": object,
            "r_score": "Int64",
            "f_score": "Int64",
            "m_score": "Int64",
            "p_score": "Int64",
        }
    )
    if program.dimensions == "rfmp" and len(frame) and frame["p_score"].isna().all():
        raise InvalidInput(
            "the programme scores RFMP but the stored RFM has no payment scores: run RFM "
            "from the store with payment (e.g. `lealta rfm --from-store --payment promptness`)",
            field="dimensions",
        )
    as_of = session.scalar(select(func.max(ContactRfm.as_of)))
    return frame, as_of.date() if as_of is not None else None


def _assigned(
    services: Services,
    program: LoyaltyProgram,
    scores: Any,
    as_of: dt.date,
    orders: Path | None,
) -> Any:
    """Each customer's qualified tier and progress (:data:`ASSIGNED`), the slice-1
    assignment over the store's facts (``orders``, else exported here)."""
    from lealta.segmentation.store import export_orders

    if orders is not None:
        return assign_orders(orders, program, scores, as_of)
    with tempfile.TemporaryDirectory(prefix="lealta-loyalty-") as folder:
        path = Path(folder) / "orders.parquet"
        with services.uow.transaction() as session:
            export_orders(session, path)
        return assign_orders(path, program, scores, as_of)


ASSIGNED = (
    "contact_id", "tier_rank", "score_sum", "qualified_by", "next_tier", "orders_to_next",
    "spend_to_next", "points_to_next", "progress",
)  # fmt: skip


def assign_orders(orders: Any, program: LoyaltyProgram, scores: Any, as_of: dt.date) -> Any:
    """:data:`ASSIGNED` per customer of ``orders`` (the store's export: a Parquet path or an
    Arrow table of :data:`lealta.segmentation.store.STORE_COLUMNS`) with ``scores``
    (``customer_id`` and the programme's ``*_score`` columns, Lealta's convention), as a
    pandas DataFrame. Windows end the day before ``as_of``."""
    import ibis

    from lealta.engines import connect
    from lealta.loyalty.assign import assign_tiers
    from lealta.loyalty.facts import purchase_facts
    from lealta.orders.columns import detect_columns
    from lealta.orders.sources import open_source
    from lealta.segmentation.joins import attach
    from lealta.segmentation.options import RFMOptions
    from lealta.segmentation.store import STORE_COLUMNS

    engine = connect("duckdb")
    source = open_source(engine, orders)
    roles: dict[str, str | None] = dict(STORE_COLUMNS)
    columns = detect_columns(source.columns, roles, ()).columns
    facts = purchase_facts(
        engine, source, columns, RFMOptions(cancel_pattern=""), program,
        date_format=None, as_of=as_of, row_per_order=True,
    )  # fmt: skip
    dims = [f"{dim}_score" for dim in program.dimension_names]
    points = point_columns(program)  # status points, when its rules read any
    stored = engine.con.create_table(
        "loyalty_scores",
        ibis.memtable(
            scores[["customer_id", *dims, *points]],
            schema={"customer_id": "string", **dict.fromkeys([*dims, *points], "int64")},
        ),
        overwrite=True,
    )
    assigned = assign_tiers(attach(facts, stored, ["customer_id"], [*dims, *points]), program)
    return engine.execute(assigned.select(*ASSIGNED[1:], contact_id=assigned.customer_id))


def _lock(session: Session, version: int) -> None:
    """One review at a time (PostgreSQL; SQLite writers are one at a time anyway)."""
    session.execute(
        select(LoyaltyProgramVersion.version)
        .where(LoyaltyProgramVersion.version == version)
        .with_for_update()
    )


def _reviewed(session: Session, version: int, now: dt.datetime) -> None:
    """Mark programme ``version`` as applied to every customer at ``now``
    (:func:`lealta.loyalty.reports.last_review`)."""
    session.execute(
        update(LoyaltyProgramVersion)
        .where(LoyaltyProgramVersion.version == version)
        .values(reviewed_at=now)
    )


def _current(session: Session) -> Any:
    from lealta.loyalty.status import CURRENT_COLUMNS

    query = select(
        ContactTier.contact_id,
        ContactTier.tier,
        ContactTier.since,
        ContactTier.until,
        ContactTier.falling_since,
    )
    return _frame(session, query, list(CURRENT_COLUMNS))


def _frame(session: Session, query: Any, columns: list[str]) -> Any:
    """The rows of ``query`` (a Core ``select`` of columns) as a pandas DataFrame of
    ``columns``, built column by column (far quicker than from a million row objects).

    It runs on the session's connection and takes the driver's rows as they are, without
    SQLAlchemy's per-row work, so ``query`` selects strings, numbers and dates only; on
    SQLite, dates are read as their text and parsed a column at a time."""
    import numpy as np
    import pandas as pd

    connection = session.connection()
    dates = [
        i
        for i, selected in enumerate(query.selected_columns)
        if connection.dialect.name == "sqlite" and isinstance(selected.type, Date)
    ]
    if dates:
        query = query.with_only_columns(
            *[
                type_coerce(c, String).label(c.name) if i in dates else c
                for i, c in enumerate(query.selected_columns)
            ]
        )
    result = connection.execute(query)
    rows = result.cursor.fetchall()  # the driver's tuples: no Row per row (types are plain)
    result.close()
    values = [list(v) for v in zip(*rows, strict=True)] or [[] for _ in columns]
    for i in dates:
        values[i] = list(np.array(values[i], dtype="datetime64[D]").astype(object))
    return pd.DataFrame(
        {name: pd.Series(v, dtype=object) for name, v in zip(columns, values, strict=True)},
        columns=columns,
    )


def _gone(session: Session) -> set[str]:
    """Contacts no review may give a tier: erased ones (their orders stay, with their id) and
    those merged into another (the survivor is the member)."""
    from lealta.contacts.tables import Contact

    return set(
        session.scalars(
            select(Contact.id).where(
                or_(Contact.erased_at.is_not(None), Contact.merged_into.is_not(None))
            )
        )
    )


def _without(frame: Any, gone: set[str]) -> Any:
    """``frame`` without the rows of the contacts in ``gone``."""
    if not gone:
        return frame
    return frame[~frame["contact_id"].isin(gone)].reset_index(drop=True)


TIERS = cast(Table, ContactTier.__table__)


def _columns(frame: Any) -> dict[str, list[Any]]:
    """The columns of ``frame`` as lists of plain Python values (None for missing ones)."""
    return {str(name): _plain_values(frame[name]) for name in frame.columns}


def _records(frame: Any) -> list[dict[str, Any]]:
    """Rows of ``frame`` with plain Python values (None for missing ones)."""
    columns = _columns(frame)
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _plain_values(column: Any) -> list[Any]:
    """A column's values as Python objects (numpy numbers become ``int``/``float``), with
    None for every missing value (None, NaN, NaT, ``pd.NA``)."""
    import pandas as pd

    values = column.to_numpy(dtype=object)
    missing = pd.isna(values)
    if missing.any():
        values = values.copy()
        values[missing] = None
    return list(values)


def _record_changes(session: Session, changes: Any, version: int, now: dt.datetime) -> None:
    """History rows, events and the workflows those events start and wake, set-wise
    (:func:`lealta.loyalty.moves.record`)."""
    from lealta.loyalty.moves import record

    record(session, changes, version, now)


def _record_risks(session: Session, risky: Any, now: dt.datetime) -> None:
    """``Loyalty Tier At Risk`` events (one per fall: the id names its first day) and the
    workflows they start and wake (a fall already warned of starts nothing again)."""
    from lealta.automations.recording import record_events
    from lealta.loyalty.risk import AT_RISK
    from lealta.loyalty.risk import properties as risk_properties

    if risky.empty:
        return
    day = now.date().isoformat()
    events = [
        {
            "message_id": f"loyalty-risk:{r['contact_id']}:{day}"[:128],
            "contact_id": r["contact_id"],
            "name": AT_RISK,
            "properties": risk_properties(r),
        }
        for r in _records(risky)
    ]
    record_events(session, events, entry_key=f"loyalty:{now.isoformat()}", now=now)


# -- one contact, for the shop ----------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """A contact's loyalty as the shop shows it: the stored tier (None: in no tier) and their
    progress worked out now from their orders and stored scores."""

    contact_id: str
    stored: Stored
    tier: ContactTier | None
    progress: dict[str, Any] | None
    decision: TierOverride | None = None  # the tier is by decision (in force), and why
    keep: dict[str, Any] | None = None  # a falling tier: to_tier, drops_on, keep (words)


def card(session: Session, contact_id: str, *, now: dt.datetime) -> Card:
    """The loyalty card of the contact ``contact_id`` is (or was merged into).

    Progress toward the next tier above the contact's tier counts their orders up to ``now``
    (today's included); it is None when there is no tier above, or the missing part is a
    score rather than orders or spend.

    Raises
    ------
    NotFound
        No programme in force, or no such contact.
    ContactErased
        The contact was erased.
    """
    from lealta.contacts.service import get as get_contact

    stored = require(session)
    contact, _merged = get_contact(session, contact_id)
    tier = session.get(ContactTier, contact.id)
    orders = orders_of(session, [contact.id])
    from lealta.loyalty import prepared  # the same assignment, prepared once (a card is quick)

    scores = with_status_points(
        session,
        _scores_of(session, contact.id),
        stored.program,
        as_of=now.date() + dt.timedelta(days=1),
        contact_ids=[contact.id],
    )
    assigned = prepared.assign(orders, stored.program, scores, now.date() + dt.timedelta(days=1))
    from lealta.loyalty.overrides import active

    decision = active(session, now.date(), [contact.id]).get(contact.id)
    if decision is not None and (tier is None or tier.tier != decision.tier):
        decision = None  # set under another programme version: the next review places it
    return Card(
        contact.id,
        stored,
        tier,
        _progress(assigned, stored.program, tier, now.date(), _days_of(orders)),
        decision,
        _keep(assigned, stored.program, tier),
    )


def _scores_of(session: Session, contact_id: str) -> Any:
    import pandas as pd

    from lealta.segmentation.tables import ContactRfm

    row = session.get(ContactRfm, contact_id)
    values = [[contact_id, row.r, row.f, row.m, row.p]] if row else []
    return pd.DataFrame(values, columns=["customer_id", "r_score", "f_score", "m_score", "p_score"])


def _days_of(orders: Any) -> list[dt.date]:
    """The days of an Arrow table of orders (:func:`lealta.loyalty.orders.orders_of`)."""
    return [moment.date() for moment in orders.column("placed_at").to_pylist()]


def _keep(
    assigned: Any, program: LoyaltyProgram, tier: ContactTier | None
) -> dict[str, Any] | None:
    """For a tier that is falling: the tier it drops to, the day, and what keeps it."""
    from lealta.loyalty.overrides import rank_of
    from lealta.loyalty.risk import drops_on, keep_words

    if tier is None or tier.falling_since is None or rank_of(program, tier.tier) == 0:
        return None
    first = _records(assigned)[0] if not assigned.empty else {}
    qualified = int(first.get("tier_rank") or 0)
    rank = rank_of(program, tier.tier)
    steps = program.status.max_steps_down
    floor = max(qualified, rank - steps) if steps else qualified
    name = program.tier_names()[rank - 1]
    return {
        "to_tier": program.tier_names()[floor - 1] if floor > 0 else None,
        "drops_on": drops_on(tier.falling_since, tier.until, program.status.grace_days),
        "words": keep_words(name, first.get("next_tier"), first.get("progress"), program),
    }


def _progress(
    assigned: Any,
    program: LoyaltyProgram,
    tier: ContactTier | None,
    today: dt.date | None = None,
    order_days: list[dt.date] | None = None,
) -> dict[str, Any] | None:
    if assigned.empty:
        return None
    return _progress_of(_records(assigned)[0], program, tier, today, order_days)


def _progress_of(
    first: Mapping[str, Any],
    program: LoyaltyProgram,
    tier: ContactTier | None,
    today: dt.date | None = None,
    order_days: list[dt.date] | None = None,
) -> dict[str, Any] | None:
    """The progress of one customer's assignment record (see :func:`_progress`)."""
    toward = first["next_tier"]
    held = tier.tier_rank if tier else 0
    if toward is None or program.tier_names().index(toward) + 1 <= held:
        return None
    if first["progress"] is None:
        return None
    from lealta.loyalty.progress import deadline
    from lealta.loyalty.wording import day_words

    words = first["progress"]
    before = None
    if today is not None and order_days is not None:
        before = deadline(order_days, program, toward, today=today)
        if before is not None:
            words = f"{words} before {day_words(before, today)}"
    return {
        "next_tier": toward,
        "orders": first["orders_to_next"],
        "spend": first["spend_to_next"],
        "points": first.get("points_to_next"),
        "words": words,
        "before": before,
    }


def progress_of_many(
    session: Session, contact_ids: list[str], *, now: dt.datetime
) -> dict[str, dict[str, Any] | None]:
    """Each contact's progress to the next tier above their tier, as on their card
    (:func:`card`: ``next_tier``, ``orders``, ``spend``, ``before``, ``words``; None where
    the card shows none), for many contacts at once: their orders, scores and tiers in a
    query each and one assignment for all, whatever their number (templates rendered in a
    batch read ``loyalty.progress`` from here). Empty without a programme in force."""
    import pandas as pd

    from lealta.loyalty import prepared
    from lealta.segmentation.tables import ContactRfm

    stored = get(session)
    ids = sorted(set(contact_ids))
    if stored is None or not ids:
        return {}
    program = stored.program
    orders = orders_of(session, ids)
    rows = session.execute(
        select(ContactRfm.contact_id, ContactRfm.r, ContactRfm.f, ContactRfm.m, ContactRfm.p).where(
            ContactRfm.contact_id.in_(ids)
        )
    ).all()
    scores = pd.DataFrame(
        [list(row) for row in rows],
        columns=["customer_id", "r_score", "f_score", "m_score", "p_score"],
    )
    tiers = {
        t.contact_id: t
        for t in session.scalars(select(ContactTier).where(ContactTier.contact_id.in_(ids)))
    }
    today = now.date()
    tomorrow = today + dt.timedelta(days=1)
    scores = with_status_points(session, scores, program, as_of=tomorrow, contact_ids=ids)
    assigned = prepared.assign(orders, program, scores, tomorrow)
    days: dict[str, list[dt.date]] = {}
    for cid, moment in zip(
        orders.column("customer_id").to_pylist(),
        orders.column("placed_at").to_pylist(),
        strict=True,
    ):
        days.setdefault(cid, []).append(moment.date())
    found: dict[str, dict[str, Any] | None] = dict.fromkeys(ids)
    for record in _records(assigned):
        cid = record["contact_id"]
        if cid in found:
            found[cid] = _progress_of(record, program, tiers.get(cid), today, days.get(cid, []))
    return found
