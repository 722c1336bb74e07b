"""The migration matrix read from the Segment Entered / Left events of real recomputations,
on SQLite and PostgreSQL: each contact counted once, in the right cell, on the right days."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from lealta.automations.sweeps import segment_moves
from lealta.contacts.tables import Contact
from lealta.errors import InvalidInput
from lealta.segmentation.movements import movements, movers, run_days
from lealta.storage.unit_of_work import UnitOfWork

DAY1 = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC)
DAY2 = DAY1 + dt.timedelta(days=31)
DAY3 = DAY2 + dt.timedelta(days=30)

# person -> segment after each of three recomputations (None: not scored in that run)
HISTORY: dict[str, tuple[str | None, str | None, str | None]] = {
    "ana": ("Champions", "At Risk", "At Risk"),
    "ben": ("Champions", "Champions", "Lost"),
    "cruz": ("At Risk", None, None),  # no order in the window any more: gone
    "dana": (None, "New Customers", "Champions"),  # first order after the first run: new
    "eva": ("Champions", "At Risk", "Champions"),
    "fay": ("Lost", "Lost", None),
}


def _replay(uow: UnitOfWork) -> dict[str, str]:
    """Three recomputations, each recording its moves as the store's runs do."""
    with uow.transaction() as session:
        ids = {}
        for name in HISTORY:
            contact = Contact(attributes={"first_name": name}, created_at=DAY1)
            session.add(contact)
            session.flush()
            ids[name] = contact.id
    before: dict[str, str] = {}
    for run, moment in enumerate((DAY1, DAY2, DAY3)):
        after = {ids[n]: seg[run] for n, seg in HISTORY.items() if seg[run] is not None}
        with uow.transaction() as session:
            segment_moves(session, before, after, now=moment)
        before = after  # type: ignore[assignment]
    return ids


def test_the_matrix_counts_each_move_between_two_runs(uow: UnitOfWork) -> None:
    _replay(uow)
    with uow.transaction() as session:
        found = movements(session, DAY1.date(), DAY2.date())
    assert found.cells == {
        ("Champions", "At Risk"): 2,  # ana, eva
        ("Champions", "Champions"): 1,  # ben stayed
        ("At Risk", None): 1,  # cruz gone
        (None, "New Customers"): 1,  # dana new
        ("Lost", "Lost"): 1,  # fay stayed
    }
    assert found.moved() == 4
    assert found.segments(["Champions", "At Risk"]) == [
        "Champions",
        "At Risk",
        "Lost",
        "New Customers",
    ]


def test_a_later_span_and_a_span_over_two_runs(uow: UnitOfWork) -> None:
    _replay(uow)
    with uow.transaction() as session:
        second = movements(session, DAY2.date(), DAY3.date())
        whole = movements(session, DAY1.date() - dt.timedelta(days=1), DAY3.date())
    assert second.cells == {
        ("At Risk", "At Risk"): 1,
        ("Champions", "Lost"): 1,
        ("New Customers", "Champions"): 1,
        ("At Risk", "Champions"): 1,
        ("Lost", None): 1,
    }  # cruz, gone since run 2, is nowhere on both days
    assert whole.cells == {
        (None, "At Risk"): 1,
        (None, "Lost"): 1,
        (None, "Champions"): 2,
    }  # before the first run nobody had a segment


def test_dates_are_whole_days_and_the_same_day_moves_nobody(uow: UnitOfWork) -> None:
    _replay(uow)
    with uow.transaction() as session:
        same = movements(session, DAY2.date(), DAY2.date())
        day_before = movements(session, DAY2.date() - dt.timedelta(days=1), DAY2.date())
    assert same.moved() == 0
    assert same.count("At Risk", "At Risk") == 2
    with uow.transaction() as session:
        assert day_before.cells == movements(session, DAY1.date(), DAY2.date()).cells


def test_movers_are_the_contacts_of_one_cell(uow: UnitOfWork) -> None:
    ids = _replay(uow)

    def who(before: str | None, after: str | None) -> set[str]:
        condition = movers(DAY1.date(), DAY2.date(), before, after)
        with uow.transaction() as session:
            return set(session.scalars(select(Contact.id).where(condition)))

    assert who("Champions", "At Risk") == {ids["ana"], ids["eva"]}
    assert who("At Risk", None) == {ids["cruz"]}
    assert who(None, "New Customers") == {ids["dana"]}
    assert who("Lost", "Champions") == set()


def test_the_default_dates_are_the_last_two_runs(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        assert run_days(session, today=DAY1.date()) == (
            DAY1.date() - dt.timedelta(days=30),
            DAY1.date(),
        )
    _replay(uow)
    with uow.transaction() as session:
        assert run_days(session, today=DAY1.date()) == (DAY2.date(), DAY3.date())


def test_a_first_date_after_the_second_is_refused(uow: UnitOfWork) -> None:
    with uow.transaction() as session, pytest.raises(InvalidInput) as refused:
        movements(session, DAY2.date(), DAY1.date())
    assert refused.value.field == "from"
