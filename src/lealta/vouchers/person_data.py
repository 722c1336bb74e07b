"""Vouchers, for export, erasure and merges (see :mod:`lealta.persons.registry`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete
from sqlalchemy.orm import Session

from lealta.persons.registry import PersonRows
from lealta.persons.rows import listed, moved
from lealta.vouchers.tables import Voucher

_COLUMNS = ("code", "kind", "value", "currency", "issued_at", "expires_at", "redeemed_at")


def _drop_unused(session: Session, ids: Sequence[str], now: dt.datetime) -> None:
    session.execute(
        delete(Voucher)
        .where(Voucher.contact_id.in_(ids), Voucher.redeemed_at.is_(None))
        .execution_options(synchronize_session=False)
    )


ROWS = (
    PersonRows(
        table=Voucher.__tablename__,
        erase=_drop_unused,
        erased="unused ones are deleted; redeemed ones stay for the record",
        merge=moved(Voucher),
        merged="moved to the survivor",
        sections=(("vouchers", listed(Voucher, Voucher.issued_at, _COLUMNS)),),
    ),
)
