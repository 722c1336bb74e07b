"""A voucher is part of its caller's transaction, on SQLite and PostgreSQL: a rollback takes
it away, whether it was the transaction's first write or not, and a taken code is skipped
without undoing the caller's work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.contacts.tables import Contact
from lealta.storage.unit_of_work import UnitOfWork
from lealta.vouchers import service
from lealta.vouchers.codes import format_code, new_code
from lealta.vouchers.tables import Voucher
from tests.factories import contacts

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


class Undo(Exception):
    """Raised inside a transaction to roll it back."""


def rolled_back(uow: UnitOfWork, work: Callable[[Session], None]) -> None:
    """Run ``work`` in a transaction that then rolls back."""

    def undone() -> None:
        with uow.transaction() as session:
            work(session)
            raise Undo

    with pytest.raises(Undo):
        undone()


def person(uow: UnitOfWork, email: str = "ana@example.com") -> str:
    with uow.transaction() as session:
        return contacts.person(session, NOW, email=email).id


def give(session: Session, contact_id: str, key: str) -> Voucher:
    return service.issue(
        session,
        key=key,
        contact_id=contact_id,
        kind="percent",
        value="10",
        now=NOW,
        source="test",
    )


def vouchers(uow: UnitOfWork) -> list[tuple[str, str]]:
    with uow.transaction() as session:
        return [
            (key, code)
            for key, code in session.execute(
                select(Voucher.issue_key, Voucher.code).order_by(Voucher.issue_key)
            )
        ]


def test_a_voucher_issued_as_the_first_write_of_a_rolled_back_transaction_is_gone(
    uow: UnitOfWork,
) -> None:
    ana = person(uow)
    codes: list[str] = []

    def work(session: Session) -> None:
        codes.append(give(session, ana, "first-write").code)
        assert session.get(Voucher, codes[0]) is not None  # seen inside the transaction

    rolled_back(uow, work)
    code = codes[0]
    assert vouchers(uow) == []
    with uow.transaction() as session:
        assert session.get(Voucher, code) is None
        again = give(session, ana, "first-write")  # the key is free again
    assert vouchers(uow) == [("first-write", again.code)]


def test_a_voucher_issued_after_other_writes_rolls_back_with_them(uow: UnitOfWork) -> None:
    ana = person(uow)

    def work(session: Session) -> None:
        bob = contacts.person(session, NOW, email="bob@example.com").id
        give(session, bob, "after-a-write")
        give(session, ana, "second-voucher")

    rolled_back(uow, work)
    assert vouchers(uow) == []
    with uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1


@pytest.fixture
def first_code_taken(uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """Ana with one voucher; the next code drawn is that voucher's, then fresh ones."""
    ana = person(uow)
    with uow.transaction() as session:
        taken = give(session, ana, "taken").code
    drawn = iter([format_code(taken)])
    monkeypatch.setattr(
        service, "new_code", lambda prefix="": next(drawn, None) or new_code(prefix=prefix)
    )
    return ana, taken


def test_a_taken_code_is_skipped_and_keeps_the_callers_work(
    uow: UnitOfWork, first_code_taken: tuple[str, str]
) -> None:
    _ana, taken = first_code_taken
    with uow.transaction() as session:
        bob = contacts.person(session, NOW, email="bob@example.com").id
        fresh = give(session, bob, "after-collision")
        assert fresh.code != taken
        assert fresh.contact_id == bob
    assert vouchers(uow) == [("after-collision", fresh.code), ("taken", taken)]
    with uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 2


def test_a_taken_code_in_a_rolled_back_transaction_leaves_nothing(
    uow: UnitOfWork, first_code_taken: tuple[str, str]
) -> None:
    ana, taken = first_code_taken

    def work(session: Session) -> None:
        assert give(session, ana, "collided-then-undone").code != taken

    rolled_back(uow, work)
    assert vouchers(uow) == [("taken", taken)]
