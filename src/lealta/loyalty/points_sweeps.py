"""The worker's points sweep, set-wise: credit new orders and bonus events, take back the
points of returned orders, expire points and warn of points about to expire.

Each step finds its candidates with one query, then writes them a few hundred contacts at a
time, each batch in a transaction of its own that re-reads the ledger first (so a batch run
again, or beside a redemption, neither doubles an entry nor takes a balance below 0: every
entry's key is unique per contact, and :func:`lealta.loyalty.ledger.write` starts a batch
again when a concurrent writer took the next entry number).

* **Orders** placed within ``earn_lookback_days`` in the programme's currency, by contacts
  neither erased nor merged, earn ``amount * per_unit * the tier multiplier`` (the tier in
  ``contact_tiers`` now), once per order id (key ``order:<id>``).
* **Bonus events** (the programme's ``bonuses``) that occurred within the lookback earn the
  first matching rule's points, cut by its caps (counted per day and per month of crediting,
  UTC, and ever); a capped event gets an entry of 0 that says so (key ``event:<message id>``).
* **Returns**: an ``Order Refunded`` event naming an ``order_id`` that earned points takes
  them back (the refunded share when its ``total``/``revenue``/``amount`` is below the
  order's amount), never below 0: the entry says how many could not be taken back.
* **Merges**: the points a merged profile still holds move to the profile it was merged
  into, each expiry day kept (a debit on one, credits on the other, keys ``merge-*``).
* **Expiry**: points whose expiry day has come are written off in one ``expire`` entry per
  contact and day; ``Loyalty Points Expiring`` is told once per contact and expiry day,
  ``warn_days`` before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, and_, case, func, insert, select
from sqlalchemy.orm import Session

from lealta.contacts.tables import Contact
from lealta.events.names import named
from lealta.events.tables import Event
from lealta.loyalty import ledger, points_events
from lealta.loyalty import points as rules
from lealta.loyalty.program import BonusRule, LoyaltyProgram, PointsRules
from lealta.loyalty.tables import ContactTier, PointsEntry
from lealta.orders.tables import Order

if TYPE_CHECKING:
    from lealta.bootstrap import Services
    from lealta.storage.unit_of_work import UnitOfWork

BATCH = 500
EVERY = 300.0  # seconds between the worker's sweeps: points show up within five minutes
ENTRIES = cast(Table, PointsEntry.__table__)
ACTOR = "worker"
REFUNDED = "Order Refunded"


@dataclass
class Swept:
    """What a sweep wrote: entries and points per step, and the warnings sent."""

    orders: int = 0
    earned: int = 0
    bonuses: int = 0
    bonus_points: int = 0
    returns: int = 0
    returned: int = 0
    not_recovered: int = 0
    expired_contacts: int = 0
    expired: int = 0
    warned: int = 0
    merged: int = 0


def sweep(services: Services, *, now: dt.datetime | None = None) -> Swept | None:
    """Run every step under the programme in force (None: no programme, or no points)."""
    from lealta.loyalty import service

    now = now or services.clock.now()
    with services.uow.transaction() as session:
        stored = service.get(session)
    if stored is None or stored.program.points is None:
        return None
    program, found = stored.program, Swept()
    move_merged(services.uow, program, now, found)
    earn_orders(services.uow, program, now, found)
    earn_bonuses(services.uow, program, now, found)
    take_back_returns(services.uow, program, now, found)
    expire(services.uow, program, now, found)
    warn(services.uow, program, now, found)
    return found


class PointsSchedule:
    """The worker's points sweep every :data:`EVERY` seconds, in the jobs thread (a first
    sweep over a month of orders may take a while; tracked events keep flowing beside it)."""

    def __init__(self, services: Services, *, every: float = EVERY) -> None:
        self.services = services
        self.every = every
        self._last: float | None = None

    def run_if_due(self) -> Swept | None:
        """Sweep when :data:`EVERY` seconds passed since the last one; never raises."""
        import logging
        import time

        if self._last is not None and time.monotonic() - self._last < self.every:
            return None
        self._last = time.monotonic()
        log = logging.getLogger(__name__)
        try:
            found = sweep(self.services)
        except Exception:
            log.exception("the loyalty points sweep failed; trying again at the next pass")
            return None
        if found is not None and any(dataclasses.astuple(found)):
            log.info("loyalty points sweep: %s", found)
        return found


def _batches(items: Sequence[Any], contact_of: Any) -> Iterable[tuple[list[str], list[Any]]]:
    """``items`` grouped by contact, :data:`BATCH` contacts at a time (order kept)."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        grouped[contact_of(item)].append(item)
    contacts = list(grouped)
    for start in range(0, len(contacts), BATCH):
        part = contacts[start : start + BATCH]
        yield part, [item for cid in part for item in grouped[cid]]


def _spellings(name: str) -> set[str]:
    """The ways a tracked event name is commonly written (``Order Refunded``,
    ``order_refunded`` …), matched exactly (:func:`lealta.events.names.named`)."""
    words = name.replace("_", " ").replace("-", " ").split()
    found = {name, " ".join(words)}
    for joined in (" ".join(words), "_".join(words), "-".join(words), "".join(words)):
        found |= {joined, joined.lower(), joined.upper(), joined.title()}
    found.add(words[0].lower() + "".join(w.title() for w in words[1:]) if words else name)
    return found


def _key(name: str | None) -> str:
    return "".join((name or "").lower().replace("_", " ").replace("-", " ").split())


def _live() -> Any:
    return select(Contact.id).where(Contact.erased_at.is_(None), Contact.merged_into.is_(None))


def _done(session: Session, contacts: Sequence[str], keys: Sequence[str]) -> set[tuple[str, str]]:
    """The (contact, key) pairs of these contacts and keys already in the ledger."""
    rows = session.execute(
        select(PointsEntry.contact_id, PointsEntry.key).where(
            PointsEntry.contact_id.in_(contacts), PointsEntry.key.in_(keys)
        )
    ).all()
    return {(cid, key) for cid, key in rows}


@dataclass(frozen=True)
class Written:
    """An entry a sweep wrote, as the events about it need it."""

    contact_id: str
    seq: int
    kind: str
    points: int
    balance: int
    reason: str
    order_id: str | None
    rule: str | None
    expires_on: dt.date | None


def _anyone_done(
    session: Session, contacts: Sequence[str], keys: Sequence[str]
) -> set[tuple[str, str]]:
    """Like :func:`_done` for keys entered for any contact: an event credited to a profile
    that was merged since has moved to the survivor, and must not be credited again."""
    found = set(session.scalars(select(PointsEntry.key).where(PointsEntry.key.in_(keys))))
    return {(cid, key) for key in found for cid in contacts}


def _append_many(
    session: Session, planned: Sequence[tuple[str, ledger.Entry]], *, now: dt.datetime
) -> list[Written]:
    """Add the planned entries (contact, entry) not added before, numbering each contact's
    after its last; an entry that would take a balance below 0 is left out. One
    INSERT of many rows (a concurrent writer's entry with the same number fails it whole,
    and :func:`lealta.loyalty.ledger.write` runs the batch again)."""
    contacts = sorted({cid for cid, _ in planned})
    keys = sorted({e.key for _, e in planned})
    done = _done(session, contacts, keys)
    state = ledger.lasts(session, contacts)
    rows: list[dict[str, Any]] = []
    written: list[Written] = []
    for cid, entry in planned:
        if (cid, entry.key) in done:
            continue
        before = state.get(cid, ledger.Last())
        after = before.balance + entry.points
        if after < 0:
            continue
        reason = entry.reason[: ledger.MAX_REASON]
        rows.append(
            {
                "contact_id": cid,
                "seq": before.seq + 1,
                "kind": entry.kind,
                "points": entry.points,
                "balance": after,
                "key": entry.key,
                "reason": reason,
                "order_id": entry.order_id,
                "voucher_code": entry.voucher_code,
                "rule": entry.rule,
                "expires_on": entry.expires_on,
                "unrecovered": entry.unrecovered,
            }
        )
        written.append(
            Written(
                cid, before.seq + 1, entry.kind, entry.points, after, reason,
                entry.order_id, entry.rule, entry.expires_on,
            )
        )  # fmt: skip
        state[cid] = ledger.Last(before.seq + 1, after)
        done.add((cid, entry.key))
    if rows:  # not COPY: a lost race must fail as an IntegrityError, which write() retries
        session.execute(
            insert(ENTRIES), [{**row, "actor": ACTOR, "created_at": now} for row in rows]
        )
    return written


# -- merges -----------------------------------------------------------------------------------


def move_merged(uow: UnitOfWork, program: LoyaltyProgram, now: dt.datetime, found: Swept) -> None:
    """Move the points of profiles merged into another to the survivor, expiry days kept."""
    with uow.transaction() as session:
        merged = sorted(
            set(
                session.scalars(
                    select(PointsEntry.contact_id)
                    .join(Contact, Contact.id == PointsEntry.contact_id)
                    .where(Contact.merged_into.is_not(None))
                )
            )
        )
        holding = [cid for cid, last in ledger.lasts(session, merged).items() if last.balance > 0]
    for source in holding:
        moved = ledger.write(uow, functools.partial(_move, source=source, now=now))
        found.merged += moved


def _move(session: Session, source: str, now: dt.datetime) -> int:
    from lealta.identity.service import survivor

    into = survivor(session, source)
    if into.erased_at is not None or into.id == source:
        return 0
    credits, debits = _all_credits(session, source)
    lots = rules.held_lots(credits, debits)
    total = min(sum(lot.points for lot in lots), ledger.last(session, source).balance)
    if total <= 0:
        return 0
    planned = [
        (
            source,
            ledger.Entry(rules.ADJUST, -total, f"merge-out:{into.id}", f"merged into {into.id}"),
        )
    ] + [
        (
            into.id,
            ledger.Entry(
                rules.ADJUST,
                lot.points,
                f"merge-in:{source}:{index}",
                f"merged from {source}",
                expires_on=lot.expires_on,
            ),
        )
        for index, lot in enumerate(lots)
    ]
    _append_many(session, planned, now=now)
    return total


def _all_credits(session: Session, contact_id: str) -> tuple[list[rules.Credit], int]:
    """Every credit of the contact (expiring or not) and every point debited."""
    rows = session.execute(
        select(PointsEntry.points, PointsEntry.expires_on).where(
            PointsEntry.contact_id == contact_id
        )
    ).all()
    credits = [rules.Credit(p, day) for p, day in rows if p > 0]
    return credits, sum(-p for p, _ in rows if p < 0)


# -- orders -----------------------------------------------------------------------------------


def earn_orders(uow: UnitOfWork, program: LoyaltyProgram, now: dt.datetime, found: Swept) -> None:
    """Credit the orders not credited yet (see the module docstring)."""
    rules_ = ledger.points_of(program)
    since = now - dt.timedelta(days=rules_.earn_lookback_days)
    credited = select(PointsEntry.id).where(
        PointsEntry.order_id == Order.external_id, PointsEntry.kind == rules.EARN
    )
    with uow.transaction() as session:
        orders = session.execute(
            select(Order.contact_id, Order.external_id, Order.amount, ContactTier.tier)
            .outerjoin(ContactTier, ContactTier.contact_id == Order.contact_id)
            .where(
                Order.placed_at >= since,
                Order.placed_at <= now,
                Order.currency == program.currency,
                Order.contact_id.in_(_live()),
                ~credited.exists(),
            )
            .order_by(Order.placed_at, Order.id)
        ).all()
    for _contacts, part in _batches(orders, lambda row: row[0]):
        planned = [_order_entry(rules_, row, now) for row in part]
        wanted = [(cid, e) for cid, e in planned if e.points > 0]
        if not wanted:
            continue
        rows = ledger.write(uow, functools.partial(_credit, planned=wanted, now=now))
        found.orders += len(rows)
        found.earned += sum(r.points for r in rows)


def _order_entry(found: PointsRules, row: Any, now: dt.datetime) -> tuple[str, ledger.Entry]:
    cid, order_id, amount, tier = row
    factor = found.multiplier(tier)
    earned = rules.order_points(amount, found.per_unit, factor)
    because = f"order {order_id}: {amount} x {found.per_unit:g} points"
    if factor != 1:
        because += f" x {factor:g} ({tier})"
    entry = ledger.Entry(
        rules.EARN,
        earned,
        f"order:{order_id}",
        because,
        order_id=order_id,
        expires_on=rules.expiry_day(now.date(), found.expire_after_days),
    )
    return cid, entry


def _credit(
    session: Session, planned: Sequence[tuple[str, ledger.Entry]], now: dt.datetime
) -> list[Written]:
    rows = _append_many(session, planned, now=now)
    points_events.earned(session, rows, now=now)
    return rows


# -- bonus events -----------------------------------------------------------------------------


def earn_bonuses(uow: UnitOfWork, program: LoyaltyProgram, now: dt.datetime, found: Swept) -> None:
    """Credit the bonus events not credited yet, within their caps."""
    rules_ = ledger.points_of(program)
    if not rules_.bonuses:
        return
    names: set[str] = set()
    for bonus in rules_.bonuses:
        names |= _spellings(bonus.event)
    since = now - dt.timedelta(days=rules_.earn_lookback_days)
    with uow.transaction() as session:
        events = session.execute(
            select(Event.contact_id, Event.message_id, Event.name, Event.properties)
            .where(
                *named(names),
                Event.occurred_at >= since,
                Event.occurred_at <= now,
                Event.contact_id.in_(_live()),
            )
            .order_by(Event.occurred_at, Event.id)
        ).all()
    matched = [(row, _rule_for(rules_.bonuses, row[2], row[3])) for row in events]
    chosen = [(row, bonus) for row, bonus in matched if bonus is not None]
    for contacts, part in _batches(chosen, lambda pair: pair[0][0]):
        rows = ledger.write(
            uow,
            functools.partial(_credit_bonuses, found=rules_, contacts=contacts, part=part, now=now),
        )
        found.bonuses += len(rows)
        found.bonus_points += sum(r.points for r in rows)


def _rule_for(
    bonuses: Sequence[BonusRule], name: str | None, properties: Mapping[str, Any] | None
) -> BonusRule | None:
    """The first bonus rule an event of ``name`` with ``properties`` meets."""
    from lealta.scoring.rules import conditions_hold

    for bonus in bonuses:
        if _key(bonus.event) == _key(name) and conditions_hold(bonus.where, properties or {}):
            return bonus
    return None


def _credit_bonuses(
    session: Session,
    found: PointsRules,
    contacts: Sequence[str],
    part: Sequence[tuple[Any, BonusRule]],
    now: dt.datetime,
) -> list[Written]:
    used = _used(session, contacts, now)
    keys = {f"event:{row[1]}" for row, _ in part}
    done = _anyone_done(session, contacts, sorted(keys))  # events move with merges
    expires = rules.expiry_day(now.date(), found.expire_after_days)
    planned: list[tuple[str, ledger.Entry]] = []
    for row, bonus in part:
        cid, message_id = row[0], row[1]
        key = f"event:{message_id}"
        if (cid, key) in done:
            continue
        so_far = used.get((cid, bonus.label), rules.Used())
        points = rules.bonus_points(bonus, so_far)
        used[(cid, bonus.label)] = so_far.plus(points)
        because = f"{bonus.label}: {row[2]}"
        if points < bonus.points:
            because += f" ({bonus.points} points, cut to {points} by the rule's caps)"
        planned.append(
            (
                cid,
                ledger.Entry(
                    rules.BONUS,
                    points,
                    key,
                    because,
                    rule=bonus.label[:64],
                    expires_on=expires if points > 0 else None,
                ),
            )
        )
    return _credit(session, planned, now)


def _used(
    session: Session, contacts: Sequence[str], now: dt.datetime
) -> dict[tuple[str, str], rules.Used]:
    """Bonus points already given per (contact, rule): today, this month, ever (UTC)."""
    day = dt.datetime.combine(now.date(), dt.time(), tzinfo=dt.UTC)
    month = day.replace(day=1)
    rows = session.execute(
        select(
            PointsEntry.contact_id,
            PointsEntry.rule,
            func.sum(case((PointsEntry.created_at >= day, PointsEntry.points), else_=0)),
            func.sum(case((PointsEntry.created_at >= month, PointsEntry.points), else_=0)),
            func.sum(PointsEntry.points),
        )
        .where(PointsEntry.contact_id.in_(contacts), PointsEntry.kind == rules.BONUS)
        .group_by(PointsEntry.contact_id, PointsEntry.rule)
    ).all()
    return {(cid, rule): rules.Used(int(d), int(m), int(e)) for cid, rule, d, m, e in rows}


# -- returns ----------------------------------------------------------------------------------


def take_back_returns(
    uow: UnitOfWork, program: LoyaltyProgram, now: dt.datetime, found: Swept
) -> None:
    """Take back the points of refunded orders (see the module docstring)."""
    rules_ = ledger.points_of(program)
    since = now - dt.timedelta(days=rules_.earn_lookback_days)
    with uow.transaction() as session:
        events = session.execute(
            select(Event.message_id, Event.properties).where(
                *named(_spellings(REFUNDED)),
                Event.occurred_at >= since,
                Event.occurred_at <= now,
            )
        ).all()
        refunds = [
            (str(message_id), str(_order_id(props)), _refunded(props))
            for message_id, props in events
            if _order_id(props) is not None
        ]
        earned = _earned(session, sorted({order for _, order, _ in refunds}))
    wanted = [(m, order, share, earned[order]) for m, order, share in refunds if order in earned]
    for _contacts, part in _batches(wanted, lambda item: item[3][0]):
        rows, lost = ledger.write(uow, functools.partial(_return, part=part, now=now))
        found.returns += len(rows)
        found.returned += -sum(r.points for r in rows)
        found.not_recovered += lost


def _order_id(properties: Mapping[str, Any] | None) -> Any:
    found = (properties or {}).get("order_id") or (properties or {}).get("orderId")
    return str(found)[:128] if found not in (None, "") else None


def _refunded(properties: Mapping[str, Any] | None) -> Decimal | None:
    for name in ("total", "revenue", "amount"):
        value = (properties or {}).get(name)
        if value is None:
            continue
        try:
            found = Decimal(str(value))
        except (InvalidOperation, ValueError):
            continue
        if found.is_finite():
            return abs(found)
    return None


def _earned(session: Session, orders: Sequence[str]) -> dict[str, tuple[str, int, Decimal]]:
    """Per order id that earned points: (contact, points earned, order amount)."""
    found: dict[str, tuple[str, int, Decimal]] = {}
    for start in range(0, len(orders), 1000):
        part = orders[start : start + 1000]
        rows = session.execute(
            select(PointsEntry.order_id, PointsEntry.contact_id, PointsEntry.points, Order.amount)
            .outerjoin(Order, Order.external_id == PointsEntry.order_id)
            .where(PointsEntry.order_id.in_(part), PointsEntry.kind == rules.EARN)
        ).all()
        for order_id, cid, points, amount in rows:
            found[str(order_id)] = (_survivor(session, cid), points, Decimal(str(amount or 0)))
    return found


def _survivor(session: Session, contact_id: str) -> str:
    """The profile ``contact_id`` was merged into (itself when it was not)."""
    from lealta.identity.service import survivor

    try:
        return survivor(session, contact_id).id
    except LookupError:
        return contact_id


def _return(
    session: Session, part: Sequence[tuple[str, str, Decimal | None, Any]], now: dt.datetime
) -> tuple[list[Written], int]:
    """The return entries of these refunds, and the points they could not take back."""
    orders = sorted({item[1] for item in part})
    settled = func.sum(-PointsEntry.points + func.coalesce(PointsEntry.unrecovered, 0))
    returned: dict[str, int] = {
        str(order): int(total or 0)
        for order, total in session.execute(
            select(PointsEntry.order_id, settled)
            .where(PointsEntry.order_id.in_(orders), PointsEntry.kind == rules.RETURN)
            .group_by(PointsEntry.order_id)
        ).all()
    }
    contacts = sorted({item[3][0] for item in part})
    keys = sorted({f"return:{item[0]}" for item in part})
    done = _anyone_done(session, contacts, keys)  # a refund handled before a merge stays so
    balances = {cid: last.balance for cid, last in ledger.lasts(session, contacts).items()}
    planned: list[tuple[str, ledger.Entry]] = []
    lost = 0
    for message_id, order_id, refund, (cid, earned, amount) in part:
        key = f"return:{message_id}"
        if (cid, key) in done:
            continue
        share = refund / amount if refund is not None and amount > 0 else None
        before = returned.get(order_id, 0)
        back = rules.take_back(earned, before, share, balances.get(cid, 0))
        if back.taken == 0 and back.lost == 0:
            continue
        returned[order_id] = before + back.taken + back.lost
        balances[cid] = balances.get(cid, 0) - back.taken
        because = (
            f"order {order_id} returned: {back.taken} of the {earned} points it earned taken back"
        )
        if back.lost:
            because += f"; {back.lost} not recovered (already spent)"
            lost += back.lost
        planned.append(
            (
                cid,
                ledger.Entry(
                    rules.RETURN,
                    -back.taken,
                    key,
                    because,
                    order_id=order_id,
                    unrecovered=back.lost or None,
                ),
            )
        )
    return _append_many(session, planned, now=now), lost


# -- expiry -----------------------------------------------------------------------------------


def _due(session: Session, today: dt.date, contacts: Sequence[str] | None = None) -> list[Any]:
    """(contact, points due to expire by ``today`` and still held) for contacts with some."""
    due = func.sum(
        case(
            (and_(PointsEntry.points > 0, PointsEntry.expires_on <= today), PointsEntry.points),
            else_=0,
        )
    )
    spent = func.sum(case((PointsEntry.points < 0, -PointsEntry.points), else_=0))
    query = select(PointsEntry.contact_id, due - spent).group_by(PointsEntry.contact_id)
    if contacts is None:
        having = select(PointsEntry.contact_id).where(PointsEntry.expires_on <= today)
        query = query.where(PointsEntry.contact_id.in_(having))
    else:
        query = query.where(PointsEntry.contact_id.in_(contacts))
    return list(session.execute(query.having(due - spent > 0)).all())


def expire(uow: UnitOfWork, program: LoyaltyProgram, now: dt.datetime, found: Swept) -> None:
    """Write off the points whose expiry day has come."""
    today = now.date()
    with uow.transaction() as session:
        candidates = _due(session, today)
    for contacts, _part in _batches(candidates, lambda row: row[0]):
        rows = ledger.write(
            uow, functools.partial(_expire, contacts=contacts, today=today, now=now)
        )
        found.expired_contacts += len(rows)
        found.expired += -sum(r.points for r in rows)


def _expire(
    session: Session, contacts: Sequence[str], today: dt.date, now: dt.datetime
) -> list[Written]:
    planned = [
        (
            cid,
            ledger.Entry(
                rules.EXPIRE,
                -int(points),
                f"expire:{today.isoformat()}",
                f"{int(points)} points expired (earned points expire on their expiry day)",
            ),
        )
        for cid, points in _due(session, today, contacts)
    ]
    return _append_many(session, planned, now=now)


def warn(uow: UnitOfWork, program: LoyaltyProgram, now: dt.datetime, found: Swept) -> None:
    """``Loyalty Points Expiring`` once per contact and expiry day, ``warn_days`` ahead."""
    rules_ = ledger.points_of(program)
    if rules_.warn_days == 0:
        return
    today = now.date()
    until = today + dt.timedelta(days=rules_.warn_days)
    with uow.transaction() as session:
        contacts = list(
            session.scalars(
                select(PointsEntry.contact_id)
                .where(
                    PointsEntry.points > 0,
                    PointsEntry.expires_on > today,
                    PointsEntry.expires_on <= until,
                )
                .distinct()
            )
        )
    for start in range(0, len(contacts), BATCH):
        part = contacts[start : start + BATCH]
        found.warned += ledger.write(
            uow, functools.partial(_warn, contacts=part, today=today, until=until, now=now)
        )


def _warn(
    session: Session, contacts: Sequence[str], today: dt.date, until: dt.date, now: dt.datetime
) -> int:
    rows = session.execute(
        select(PointsEntry.contact_id, PointsEntry.points, PointsEntry.expires_on).where(
            PointsEntry.contact_id.in_(contacts)
        )
    ).all()
    credits: dict[str, list[rules.Credit]] = defaultdict(list)
    spent: dict[str, int] = defaultdict(int)
    for cid, points, day in rows:
        if points > 0 and day is not None:
            credits[cid].append(rules.Credit(points, day))
        elif points < 0:
            spent[cid] -= points
    balances = ledger.lasts(session, contacts)
    warnings = [
        (cid, day, points, balances[cid].balance)
        for cid in contacts
        for day, points in rules.expiring_between(credits[cid], spent[cid], today, until)
    ]
    return points_events.expiring(session, warnings, now=now)
