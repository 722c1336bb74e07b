"""The contacts behind a figure, found both ways on SQLite and PostgreSQL: walking the contacts
with a probe (many rows) and gathering the rows (few) give the same people, pages, cursors
and counts, for every kind of figure; the choice follows the number of rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lealta.automations.tables import RunStep
from lealta.feedback import behind
from lealta.feedback.behind import Figure, People
from lealta.feedback.surveys import answer
from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.feedback_reports.conftest import T0, Shop

SINCE, UNTIL = T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=1)
LATER = T0 + dt.timedelta(hours=2)
PEOPLE = 14


@pytest.fixture
def people(shop: Shop) -> list[str]:
    """Fourteen people with welcome e-mails (some opened, clicked twice, bounced at one of two
    domains, complained), a split workflow's e-mails, an older message out of the period and
    NPS answers."""
    who = [shop.person(f"p{i}@{'gmail.com' if i % 2 else 'example.org'}") for i in range(PEOPLE)]
    shop.workflow("winback")
    for i, contact in enumerate(who):
        sent = shop.sent(contact, template="welcome")
        if i % 2 == 0:
            shop.interact(sent, "opened", LATER)
        if i % 3 == 0:
            shop.interact(sent, "clicked", LATER)
            shop.interact(sent, "clicked", LATER + dt.timedelta(minutes=1))
        if i % 4 == 1:
            address = f"p{i}@{'gmail.com' if i % 8 == 1 else 'example.org'}"
            shop.interact(sent, "bounced", LATER, details={"address": address})
        if i == 5:
            shop.interact(sent, "complained", LATER, details={})
        if i >= 6:
            run = shop.run("winback", contact)
            with shop.uow.transaction() as session:
                branch = "A" if i % 2 else "B"
                session.add(
                    RunStep(
                        run_id=run,
                        workflow_id="winback",
                        step_id="test",
                        outcome=f"split:{branch}",
                        at=T0,
                    )
                )
            mail = shop.sent(contact, template="winback", run_id=run, step="mail", at=LATER)
            if i % 3 != 1:
                shop.interact(mail, "clicked", LATER)
        if i in (2, 9, 11):
            with shop.uow.transaction() as session:
                answer(session, outbox_id=sent, score=10 if i == 9 else 4, survey="nps", at=LATER)
    old = shop.sent(who[1], template="welcome", at=T0 - dt.timedelta(days=10))
    shop.interact(old, "clicked", T0 - dt.timedelta(days=10))
    return who


def figure(**kw: Any) -> Figure:
    return Figure(since=SINCE, until=UNTIL, **kw)


FIGURES = [
    figure(kind="message", figure="sent", by="channel"),
    figure(kind="message", figure="clicked", by="channel"),
    figure(kind="message", figure="opened", by="template", key={"template": "welcome"}),
    figure(
        kind="message", figure="clicked", by="step", key={"workflow": "winback", "step": "mail"}
    ),
    figure(kind="message", figure="bounced", by="template"),
    figure(kind="message", figure="complained", by="channel"),
    figure(kind="split", workflow="winback", step="test", branch="A", figure="people"),
    figure(kind="split", workflow="winback", step="test", branch="B", figure="clicked"),
    figure(kind="domain", domain="gmail.com", figure="bounced"),
    figure(kind="domain", domain="example.org,(unknown)", figure=""),
]


def every_page(uow: UnitOfWork, wanted: Figure, path: behind.Path | None) -> list[People]:
    pages: list[People] = []
    after = ""
    with uow.transaction() as session:
        while True:
            page = behind.people(session, wanted, after=after, limit=2, path=path)
            pages.append(page)
            if not page.after:
                return pages
            after = page.after


@pytest.mark.parametrize("wanted", FIGURES, ids=lambda f: f"{f.kind}-{f.figure}-{f.by}")
def test_walking_and_gathering_give_the_same_pages(
    uow: UnitOfWork, people: list[str], wanted: Figure
) -> None:
    walked = every_page(uow, wanted, "walk")
    gathered = every_page(uow, wanted, "gather")
    assert walked == gathered
    assert every_page(uow, wanted, None) == gathered
    ids = [p.id for page in walked for p in page.people]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert walked[0].total == len(ids)
    assert not walked[0].more


def test_the_figures_name_the_right_people(uow: UnitOfWork, people: list[str]) -> None:
    def ids(wanted: Figure, path: behind.Path) -> set[str]:
        return {p.id for page in every_page(uow, wanted, path) for p in page.people}

    for path in ("walk", "gather"):
        assert ids(FIGURES[0], path) == set(people)
        # clicked a welcome (i % 3 == 0, or its survey link: 2, 9, 11) or the workflow's mail
        # (i >= 6, i % 3 != 1), in the period: p1's click of an older message does not count
        clicked = {
            people[i] for i in range(PEOPLE) if i % 3 == 0 or (i >= 6 and i % 3 != 1) or i == 2
        }
        assert ids(FIGURES[1], path) == clicked
        assert ids(FIGURES[8], path) == {people[1], people[9]}
        assert ids(FIGURES[6], path) == {people[i] for i in range(7, PEOPLE, 2)}


def test_the_count_stops_at_the_cap_on_both_paths(
    uow: UnitOfWork, people: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(behind, "COUNT_CAP", 3)
    for path in ("walk", "gather"):
        with uow.transaction() as session:
            found = behind.people(session, FIGURES[0], path=path)
        assert (found.total, found.more, len(found.people)) == (3, True, PEOPLE)


def test_many_rows_walk_the_contacts_few_are_gathered(
    uow: UnitOfWork, people: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(behind, "DENSE", 5)
    nps = figure(kind="nps", survey="nps")
    with uow.transaction() as session:
        rows = behind._rows  # the figure's rows, as people() reads them
        assert behind.choose_path(session, rows(session, FIGURES[0])) == "walk"  # 14 + 8 rows
        assert behind.choose_path(session, rows(session, FIGURES[5])) == "gather"  # 1 row
        # NPS answers are always gathered (the newest answer cannot be probed per contact)
        assert behind.choose_path(session, rows(session, nps)) == "gather"
        found = behind.people(session, nps, path="walk")
    assert {p.id for p in found.people} == {people[2], people[9], people[11]}
