"""The points ledger in the state store: balances, history, adjustments, redemptions, and the
liability report. Functions take a session and never commit.

Every entry is a new ``loyalty_points`` row (:class:`~lealta.loyalty.tables.PointsEntry`);
nothing is ever updated or deleted (but for a person's erasure). Adding an entry reads the
contact's last one and writes the next ``seq`` with the new running ``balance``:

* a balance that would go below 0 is refused (:class:`~lealta.errors.Conflict`) before
  writing, and the table's check constraint refuses it again;
* two writers that read the same last entry cannot both add the next one (``seq`` is unique
  with the contact): the loser's transaction fails and, run through :func:`write`, starts
  again from the new last entry, where its check sees the winner's entry. So two
  redemptions at the same time are paid once when the points cover one (the other is refused)
  on PostgreSQL and on SQLite alike;
* ``key`` is unique with the contact: a retried request finds its entry and gets it back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import and_, case, func, select, tuple_
from sqlalchemy.orm import Session

from lealta.errors import Conflict, InvalidInput, NotFound
from lealta.loyalty import points as rules
from lealta.loyalty.program import LoyaltyProgram, PointsRules
from lealta.loyalty.tables import PointsEntry

if TYPE_CHECKING:
    from lealta.storage.unit_of_work import UnitOfWork
    from lealta.vouchers.tables import Voucher

T = TypeVar("T")
ATTEMPTS = 40
NO_POINTS = "the loyalty programme in force has no points: add a `points:` section"
MAX_REASON = 500


@dataclass(frozen=True)
class Entry:
    """An entry to add: its kind, signed points, idempotency key and what it is about."""

    kind: str
    points: int
    key: str
    reason: str = ""
    order_id: str | None = None
    voucher_code: str | None = None
    rule: str | None = None
    expires_on: dt.date | None = None
    unrecovered: int | None = None


@dataclass(frozen=True)
class Last:
    """A contact's last entry: its number and the balance after it (0, 0: no entry yet)."""

    seq: int = 0
    balance: int = 0


def write(uow: UnitOfWork, work: Callable[[Session], T]) -> T:
    """Run ``work`` in a transaction, from scratch again while a concurrent ledger writer got
    the same next entry first (up to :data:`ATTEMPTS` times)."""
    from lealta.storage.retry import in_transaction

    return in_transaction(uow, work, attempts=ATTEMPTS)


def points_of(program: LoyaltyProgram) -> PointsRules:
    """The programme's points rules.

    Raises
    ------
    NotFound
        The programme has no ``points:`` section.
    """
    if program.points is None:
        raise NotFound(NO_POINTS)
    return program.points


# -- reading ----------------------------------------------------------------------------------


def last(session: Session, contact_id: str) -> Last:
    """The contact's last entry (number and balance after it)."""
    row = session.execute(
        select(PointsEntry.seq, PointsEntry.balance)
        .where(PointsEntry.contact_id == contact_id)
        .order_by(PointsEntry.seq.desc())
        .limit(1)
    ).first()
    return Last(row[0], row[1]) if row else Last()


def lasts(session: Session, contact_ids: Sequence[str]) -> dict[str, Last]:
    """The last entry of each of ``contact_ids`` that has one (one query)."""
    if not contact_ids:
        return {}
    newest = (
        select(PointsEntry.contact_id, func.max(PointsEntry.seq).label("seq"))
        .where(PointsEntry.contact_id.in_(contact_ids))
        .group_by(PointsEntry.contact_id)
        .subquery()
    )
    rows = session.execute(
        select(PointsEntry.contact_id, PointsEntry.seq, PointsEntry.balance).join(
            newest,
            and_(PointsEntry.contact_id == newest.c.contact_id, PointsEntry.seq == newest.c.seq),
        )
    ).all()
    return {cid: Last(seq, balance) for cid, seq, balance in rows}


def history(
    session: Session, contact_id: str, *, limit: int = 50, before: int | None = None
) -> list[PointsEntry]:
    """The contact's entries, newest first: ``limit`` of them, those numbered below
    ``before`` when given (the ``seq`` of the last entry of the previous page)."""
    query = select(PointsEntry).where(PointsEntry.contact_id == contact_id)
    if before is not None:
        query = query.where(PointsEntry.seq < before)
    return list(session.scalars(query.order_by(PointsEntry.seq.desc()).limit(limit)))


def credits_and_debits(session: Session, contact_id: str) -> tuple[list[rules.Credit], int]:
    """The contact's credits that expire, and every point ever debited (a positive number)."""
    rows = session.execute(
        select(PointsEntry.points, PointsEntry.expires_on).where(
            PointsEntry.contact_id == contact_id
        )
    ).all()
    credits = [rules.Credit(p, day) for p, day in rows if p > 0 and day is not None]
    return credits, sum(-p for p, _ in rows if p < 0)


@dataclass(frozen=True)
class Balance:
    """A contact's points now: the balance and what expires soon, by day."""

    contact_id: str
    balance: int
    expiring: list[tuple[dt.date, int]]
    value: Decimal


def balance(
    session: Session, contact_id: str, program: LoyaltyProgram, *, today: dt.date
) -> Balance:
    """The contact's balance, its value, and the points expiring within the programme's
    ``warn_days`` from ``today`` (at least 30 days ahead), soonest first."""
    found = points_of(program)
    credits, debits = credits_and_debits(session, contact_id)
    ahead = today + dt.timedelta(days=max(found.warn_days, 30))
    held = last(session, contact_id).balance
    return Balance(
        contact_id,
        held,
        rules.expiring_between(credits, debits, today, ahead),
        rules.value_of(held, found.point_value),
    )


def balances(
    session: Session, contact_ids: Sequence[str], program: LoyaltyProgram, *, today: dt.date
) -> dict[str, Balance]:
    """:func:`balance` of each of ``contact_ids`` that has an entry (two queries), for
    message templates sent to many contacts at once."""
    found = points_of(program)
    held = lasts(session, contact_ids)
    if not held:
        return {}
    credits: dict[str, list[rules.Credit]] = {cid: [] for cid in held}
    spent = dict.fromkeys(held, 0)
    rows = session.execute(
        select(PointsEntry.contact_id, PointsEntry.points, PointsEntry.expires_on).where(
            PointsEntry.contact_id.in_(list(held))
        )
    ).all()
    for cid, points, day in rows:
        if points > 0 and day is not None:
            credits[cid].append(rules.Credit(points, day))
        elif points < 0:
            spent[cid] -= points
    ahead = today + dt.timedelta(days=max(found.warn_days, 30))
    return {
        cid: Balance(
            cid,
            last_.balance,
            rules.expiring_between(credits[cid], spent[cid], today, ahead),
            rules.value_of(last_.balance, found.point_value),
        )
        for cid, last_ in held.items()
    }


# -- writing ----------------------------------------------------------------------------------


def _existing(session: Session, contact_id: str, key: str) -> PointsEntry | None:
    return session.scalar(
        select(PointsEntry).where(PointsEntry.contact_id == contact_id, PointsEntry.key == key)
    )


def append(
    session: Session, contact_id: str, entry: Entry, *, now: dt.datetime, actor: str
) -> tuple[PointsEntry, bool]:
    """Add ``entry`` to the contact's ledger, or find the entry already added with its key;
    the entry and whether it is new.

    Raises
    ------
    Conflict
        The balance would go below 0 (the message says how many points there are), or the
        key was used for an entry of another kind.
    """
    _check_key(entry.key)
    found = _existing(session, contact_id, entry.key)
    if found is not None:
        if found.kind != entry.kind:
            raise Conflict(f"key {entry.key!r} was used for a {found.kind} entry already")
        return found, False
    before = last(session, contact_id)
    after = before.balance + entry.points
    if after < 0:
        raise Conflict(
            f"not enough points: the balance is {before.balance}, {-entry.points} are needed"
        )
    row = PointsEntry(
        contact_id=contact_id,
        seq=before.seq + 1,
        kind=entry.kind,
        points=entry.points,
        balance=after,
        key=entry.key,
        reason=entry.reason[:MAX_REASON],
        order_id=entry.order_id,
        voucher_code=entry.voucher_code,
        rule=entry.rule,
        expires_on=entry.expires_on,
        unrecovered=entry.unrecovered,
        actor=actor[:200],
        created_at=now,
    )
    session.add(row)
    session.flush()  # a concurrent writer's entry with this seq fails here
    return row, True


def _check_key(key: str) -> None:
    if not key or len(key) > 200:
        raise InvalidInput("the idempotency key must be 1 to 200 characters", field="key")


def adjust(
    session: Session,
    contact_id: str,
    program: LoyaltyProgram,
    *,
    points: int,
    reason: str,
    key: str,
    now: dt.datetime,
    actor: str,
) -> PointsEntry:
    """A manual adjustment of ``points`` (signed, not 0) with a ``reason``: added points
    expire as earned ones do; taken points may not take the balance below 0.

    Raises
    ------
    InvalidInput
        ``points`` is 0 or beyond a million either way, or ``reason`` is empty.
    NotFound
        No points in the programme, no such contact, or it was erased.
    Conflict
        The balance would go below 0.
    """
    from lealta.contacts.service import get_live

    found = points_of(program)
    if points == 0 or abs(points) > 1_000_000:
        raise InvalidInput(
            "points must be a whole number from -1000000 to 1000000, not 0", field="points"
        )
    reason = reason.strip()
    if not reason:
        raise InvalidInput("an adjustment needs a reason", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"the reason is at most {MAX_REASON} characters", field="reason")
    contact = get_live(session, contact_id)
    expires = rules.expiry_day(now.date(), found.expire_after_days) if points > 0 else None
    entry, new = append(
        session,
        contact.id,
        Entry(rules.ADJUST, points, key, reason, expires_on=expires),
        now=now,
        actor=actor,
    )
    if new and points > 0:
        from lealta.loyalty.points_events import earned

        earned(session, [entry], now=now)
    return entry


@dataclass(frozen=True)
class Redemption:
    """A redemption's ledger entry and the voucher it paid out."""

    entry: PointsEntry
    voucher: Voucher


def redeem(
    session: Session,
    contact_id: str,
    program: LoyaltyProgram,
    *,
    option: str,
    key: str,
    now: dt.datetime,
    actor: str,
) -> Redemption:
    """Turn points into the voucher of the programme's redemption ``option``, once per
    ``key``: a retried (or concurrent) request with the same key gets the same voucher.

    Raises
    ------
    InvalidInput
        No such option (``field="option"``), or a bad key (``field="key"``).
    NotFound
        No points in the programme, no such contact, or it was erased.
    Conflict
        Not enough points (or below the programme's ``min_balance``).
    """
    from lealta.contacts.service import get_live
    from lealta.vouchers import service as vouchers

    found = points_of(program)
    chosen = found.option(option)
    _check_key(key)
    contact = get_live(session, contact_id)
    done = _existing(session, contact.id, key)
    if done is not None and done.kind == rules.REDEEM and done.voucher_code:
        return Redemption(done, vouchers.get(session, done.voucher_code))
    held = last(session, contact.id).balance
    needed = max(chosen.points, found.min_balance)
    if held < needed:
        floor = (
            f" (redeeming needs a balance of {found.min_balance})" if needed > chosen.points else ""
        )
        raise Conflict(
            f"not enough points for {chosen.code}: the balance is {held}, "
            f"{chosen.points} are needed{floor}"
        )
    # The entry first, then the voucher, in the one transaction: on SQLite a voucher written
    # before any other write of the transaction would be committed on its own by the
    # savepoint it is issued in (pysqlite starts no transaction for a SAVEPOINT), and kept
    # when the redemption then loses its race; after the entry, it rolls back with it.
    entry, new = append(
        session,
        contact.id,
        Entry(rules.REDEEM, -chosen.points, key, f"redeemed for {chosen.code}"),
        now=now,
        actor=actor,
    )
    voucher = vouchers.issue(
        session,
        key=f"loyalty-points:{contact.id}:{key}",
        contact_id=contact.id,
        kind=chosen.kind,
        value=chosen.value,
        currency=program.currency if chosen.kind == "amount" else None,
        valid_days=chosen.valid_days,
        now=now,
        source=f"loyalty points: {chosen.code}",
    )
    if new:
        entry.voucher_code = voucher.code  # before the commit: no one sees the entry without it
        session.flush()
    return Redemption(entry, voucher)


# -- the liability report ---------------------------------------------------------------------


@dataclass(frozen=True)
class Liability:
    """Points outstanding and what they are worth, and what expires soon."""

    points: int
    value: Decimal
    currency: str
    point_value: float
    holders: int
    expiring_30_days: int
    earned: int
    redeemed: int
    expired: int
    returned: int
    not_recovered: int
    adjusted: int


def liability(session: Session, program: LoyaltyProgram, *, today: dt.date) -> Liability:
    """Every balance added up (points outstanding, never below 0 per contact) with its value
    at the programme's ``point_value``, the points that expire in the next 30 days, the
    points ever moved per kind, and those returns could not take back."""
    found = points_of(program)
    totals = dict(
        session.execute(
            select(PointsEntry.kind, func.coalesce(func.sum(PointsEntry.points), 0)).group_by(
                PointsEntry.kind
            )
        ).all()
    )
    newest = (
        select(PointsEntry.contact_id, func.max(PointsEntry.seq).label("seq"))
        .group_by(PointsEntry.contact_id)
        .subquery()
    )
    outstanding, holders = session.execute(
        select(
            func.coalesce(func.sum(PointsEntry.balance), 0),
            func.count().filter(PointsEntry.balance > 0),
        ).where(tuple_(PointsEntry.contact_id, PointsEntry.seq).in_(select(newest)))
    ).one()
    soon = _expiring_total(session, today, today + dt.timedelta(days=30))
    outstanding = int(outstanding)
    return Liability(
        points=outstanding,
        value=rules.value_of(outstanding, found.point_value),
        currency=program.currency,
        point_value=found.point_value,
        holders=int(holders),
        expiring_30_days=soon,
        earned=int(totals.get(rules.EARN, 0)) + int(totals.get(rules.BONUS, 0)),
        redeemed=-int(totals.get(rules.REDEEM, 0)),
        expired=-int(totals.get(rules.EXPIRE, 0)),
        returned=-int(totals.get(rules.RETURN, 0)),
        not_recovered=int(
            session.scalar(select(func.coalesce(func.sum(PointsEntry.unrecovered), 0))) or 0
        ),
        adjusted=int(totals.get(rules.ADJUST, 0)),
    )


def _expiring_total(session: Session, today: dt.date, until: dt.date) -> int:
    """Points all contacts hold that expire in (``today``, ``until``] (set-wise)."""
    per_contact = (
        select(
            PointsEntry.contact_id,
            func.sum(
                case(
                    (
                        and_(PointsEntry.points > 0, PointsEntry.expires_on <= today),
                        PointsEntry.points,
                    ),
                    else_=0,
                )
            ).label("due_now"),
            func.sum(
                case(
                    (
                        and_(PointsEntry.points > 0, PointsEntry.expires_on <= until),
                        PointsEntry.points,
                    ),
                    else_=0,
                )
            ).label("due_then"),
            func.sum(case((PointsEntry.points < 0, -PointsEntry.points), else_=0)).label("spent"),
        )
        .group_by(PointsEntry.contact_id)
        .subquery()
    )
    by_then = _positive(per_contact.c.due_then - per_contact.c.spent)
    by_now = _positive(per_contact.c.due_now - per_contact.c.spent)
    total = session.scalar(select(func.coalesce(func.sum(by_then - by_now), 0)))
    return int(total or 0)


def _positive(expression: Any) -> Any:
    """``expression`` where above 0, else 0 (portable SQL)."""
    return case((expression > 0, expression), else_=0)
