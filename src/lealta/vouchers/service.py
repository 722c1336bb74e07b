"""Issuing and redeeming vouchers. Functions take a session and never commit.

Codes are stored in their canonical form (see :mod:`lealta.vouchers.codes`): whatever way a
customer types one, it is found. Issuing is idempotent on its key, so an automation step
replayed after a crash hands out the same voucher, and it is part of the caller's
transaction: a voucher issued in a transaction that rolls back is gone (no savepoint, see
:func:`_insert_unless_taken`). Redeeming is a compare-and-set on
``redeemed_at``: of two concurrent redemptions exactly one wins, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lealta.contacts.service import get_live, person_ids
from lealta.errors import Conflict, InvalidInput, NotFound
from lealta.events.tables import Event
from lealta.identity.service import survivor
from lealta.storage.upsert import insert_ignoring
from lealta.vouchers.codes import new_code, normalize_code
from lealta.vouchers.tables import Voucher

KINDS = ("percent", "amount", "free_shipping")
REDEEMED_EVENT = "Voucher Redeemed"
_CODE_TRIES = 5


def issue(
    session: Session,
    *,
    key: str,
    contact_id: str,
    kind: str,
    value: Decimal | float | int | str,
    currency: str | None = None,
    valid_days: int | None = None,
    now: dt.datetime,
    source: str = "",
    prefix: str = "",
) -> Voucher:
    """A voucher for ``contact_id`` (its survivor, if merged); the same one again for ``key``.

    ``kind`` is ``percent`` (``value`` 0-100), ``amount`` (``value`` in ``currency``) or
    ``free_shipping``. It expires ``valid_days`` after ``now`` (never when ``None``).

    Raises
    ------
    InvalidInput
        A bad kind, value, currency or validity.
    NotFound
        No such contact, or it was erased.
    Conflict
        No free code in five tries (practically impossible with 79-bit codes).
    """
    if not key or len(key) > 200:
        raise InvalidInput("key must be 1 to 200 characters", field="key")
    existing = session.scalar(select(Voucher).where(Voucher.issue_key == key))
    if existing is not None:
        return existing
    amount, currency = _check_value(kind, value, currency)
    if valid_days is not None and valid_days < 1:
        raise InvalidInput("valid_days must be 1 or more", field="valid_days")
    owner = get_live(session, contact_id).id
    row = {
        "issue_key": key,
        "contact_id": owner,
        "kind": kind,
        "value": amount,
        "currency": currency,
        "issued_at": now,
        "expires_at": now + dt.timedelta(days=valid_days) if valid_days else None,
        "source": source[:200],
    }
    for _ in range(_CODE_TRIES):
        code = normalize_code(new_code(prefix=prefix))
        _insert_unless_taken(session, {**row, "code": code})
        found = session.scalar(select(Voucher).where(Voucher.issue_key == key))
        if found is not None:
            return found  # ours, or a concurrent issue's with the same key
        # the code was taken (by another voucher): try another
    raise Conflict(f"could not find a free voucher code in {_CODE_TRIES} tries")


def _insert_unless_taken(session: Session, row: dict[str, object]) -> None:
    """``INSERT … ON CONFLICT DO NOTHING`` of one voucher: nothing is written when its issue
    key or its code is taken already, and no error is raised.

    No savepoint: a taken code must neither undo the caller's work (an error would abort a
    PostgreSQL transaction) nor be caught in a ``SAVEPOINT``. On SQLite a savepoint opened
    before the transaction's first write *is* the transaction (pysqlite sends no ``BEGIN``
    before it), and releasing it commits the voucher on its own, so it survived the
    caller's rollback.
    """
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    session.execute(module.insert(Voucher.__table__).on_conflict_do_nothing(), [row])


def get(session: Session, code: str) -> Voucher:
    """The voucher with ``code`` (typed any way: case, spaces and dashes do not matter).

    Raises
    ------
    NotFound
        No such voucher.
    """
    canonical = normalize_code(code)
    found = session.get(Voucher, canonical)
    if found is None:
        raise NotFound(f"no voucher {canonical}")
    return found


def list_for_contact(session: Session, contact_id: str) -> list[Voucher]:
    """The vouchers of the person ``contact_id`` is (merged profiles included), newest first.

    Raises
    ------
    NotFound
        No such contact, or it was erased.
    """
    ids = person_ids(session, get_live(session, contact_id).id)
    return list(
        session.scalars(
            select(Voucher)
            .where(Voucher.contact_id.in_(ids))
            .order_by(Voucher.issued_at.desc(), Voucher.code)
        )
    )


def redeem(session: Session, code: str, *, order_id: str, now: dt.datetime) -> Voucher:
    """Mark the voucher used by ``order_id``, and record a ``Voucher Redeemed`` event.

    Redeeming again for the same order is a no-op that returns the voucher (a retried request).

    Raises
    ------
    NotFound
        No such voucher.
    InvalidInput
        The voucher has expired (``field="code"``), or ``order_id`` is empty.
    Conflict
        It was already redeemed by another order (the message says when and which).
    """
    if not order_id or len(order_id) > 128:
        raise InvalidInput("order_id must be 1 to 128 characters", field="order_id")
    voucher = get(session, code)
    if voucher.redeemed_at is not None:
        return _already(voucher, order_id)
    expires = _utc(voucher.expires_at)
    if expires is not None and expires <= now.astimezone(dt.UTC):
        raise InvalidInput(f"voucher {voucher.code} expired on {expires.isoformat()}", field="code")
    won = session.execute(
        update(Voucher)
        .where(Voucher.code == voucher.code, Voucher.redeemed_at.is_(None))
        .values(redeemed_at=now, redeemed_order=order_id)
        .execution_options(synchronize_session=False)
    )
    session.refresh(voucher)
    if getattr(won, "rowcount", 0) != 1:
        return _already(voucher, order_id)
    _redeemed_event(session, voucher, now)
    return voucher


def _already(voucher: Voucher, order_id: str) -> Voucher:
    if voucher.redeemed_order == order_id:
        return voucher
    when = _utc(voucher.redeemed_at)
    stamp = when.isoformat() if when else "earlier"
    raise Conflict(
        f"voucher {voucher.code} was already redeemed on {stamp} by order {voucher.redeemed_order}"
    )


def _redeemed_event(session: Session, voucher: Voucher, now: dt.datetime) -> None:
    try:
        contact_id = survivor(session, voucher.contact_id).id
    except LookupError:
        contact_id = voucher.contact_id
    insert_ignoring(
        session,
        Event.__table__,
        [
            {
                "message_id": f"voucher:{voucher.code}:redeemed",
                "contact_id": contact_id,
                "type": "track",
                "name": REDEEMED_EVENT,
                "properties": {
                    "code": voucher.code,
                    "order_id": voucher.redeemed_order,
                    "value": float(voucher.value),
                    "kind": voucher.kind,
                    "currency": voucher.currency,
                },
                "context": {"source": "lealta"},
                "occurred_at": now,
                "received_at": now,
            }
        ],
        conflict=["message_id"],
    )


def _check_value(
    kind: str, value: Decimal | float | int | str, currency: str | None
) -> tuple[Decimal, str | None]:
    if kind not in KINDS:
        raise InvalidInput(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}", field="kind")
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"value must be a number; got {value!r}", field="value") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        raise InvalidInput("value must be 0 or more (and below 10 billion)", field="value")
    if kind == "percent" and amount > 100:
        raise InvalidInput("a percent voucher's value is at most 100", field="value")
    if kind == "amount":
        if amount <= 0:
            raise InvalidInput("an amount voucher's value must be above 0", field="value")
        if not currency or len(currency.strip()) != 3 or not currency.strip().isalpha():
            raise InvalidInput("an amount voucher needs a 3-letter currency", field="currency")
        return amount, currency.strip().upper()
    if kind == "percent" and amount <= 0:
        raise InvalidInput("a percent voucher's value must be above 0", field="value")
    return amount, currency.strip().upper() if currency else None


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
