"""NPS of a survey: the score, promoters, passives and detractors, and the latest comments.

The answers counted are those in force (:mod:`lealta.feedback.surveys`: the newest answer per
message and survey) given in ``[since, until)``. With ``P`` promoters (9-10), ``D`` detractors
(0-6) and ``N`` answers, the **NPS** is ``100 * (P - D) / N``, rounded to a whole number, from
-100 to 100 (``None`` without answers). One grouped query for the counts, one for the comments.

``contacts`` (a select of contact ids, such as an audience's members) keeps the answers of
those people only, as for the message reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session

from lealta.channels.tables import MessageInteraction
from lealta.feedback.reports import Contacts

CATEGORIES = ("promoter", "passive", "detractor")
COMMENTS = 10


@dataclass(frozen=True)
class Comment:
    """A comment left after answering: who, their score, when, and the text."""

    contact_id: str
    score: int
    category: str
    at: dt.datetime
    text: str


@dataclass
class Survey:
    """One survey's answers in force in the period."""

    survey: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    comments: list[Comment] = field(default_factory=list)

    @property
    def answers(self) -> int:
        """How many answered."""
        return sum(self.counts.values())

    def share(self, category: str) -> float | None:
        """The share of answers in ``category`` (``None`` without answers)."""
        return self.counts[category] / self.answers if self.answers else None

    @property
    def score(self) -> int | None:
        """The NPS, -100 to 100 (``None`` without answers)."""
        if not self.answers:
            return None
        return round(100 * (self.counts["promoter"] - self.counts["detractor"]) / self.answers)


def in_force(
    since: dt.datetime, until: dt.datetime, survey: str | None = None, contacts: Contacts = None
) -> Subquery:
    """The answers in force given in ``[since, until)`` (by ``contacts`` only, when given) as
    a subquery of ``id``, ``contact_id``, ``survey``, ``score``, ``category``, ``comment`` and
    ``at``."""
    details = MessageInteraction.details
    name = details["survey"].as_string()
    answered = [
        MessageInteraction.kind == "answered",
        MessageInteraction.at >= since,
        MessageInteraction.at < until,
    ]
    if survey is not None:
        answered.append(name == survey)
    if contacts is not None:
        answered.append(MessageInteraction.contact_id.in_(contacts))
    newest = (
        select(func.max(MessageInteraction.id).label("id"))
        .where(*answered)
        .group_by(MessageInteraction.outbox_id, name)
    )
    return (
        select(
            MessageInteraction.id,
            MessageInteraction.contact_id,
            name.label("survey"),
            details["score"].as_integer().label("score"),
            details["category"].as_string().label("category"),
            details["comment"].as_string().label("comment"),
            MessageInteraction.at,
        )
        .where(MessageInteraction.id.in_(newest))
        .subquery("answers")
    )


def nps(
    session: Session, *, since: dt.datetime, until: dt.datetime, contacts: Contacts = None
) -> list[Survey]:
    """Every survey answered in the period, most answers first (see the module docstring)."""
    answers = in_force(since, until, contacts=contacts)
    surveys: dict[str, Survey] = {}
    for name, category, count in session.execute(
        select(answers.c.survey, answers.c.category, func.count()).group_by(
            answers.c.survey, answers.c.category
        )
    ):
        found = surveys.setdefault(str(name), Survey(str(name)))
        if category in found.counts:
            found.counts[category] = int(count)
    for survey in surveys.values():
        survey.comments = latest_comments(
            session, since=since, until=until, survey=survey.survey, contacts=contacts
        )
    return sorted(surveys.values(), key=lambda s: (-s.answers, s.survey))


def latest_comments(
    session: Session,
    *,
    since: dt.datetime,
    until: dt.datetime,
    survey: str,
    limit: int = COMMENTS,
    contacts: Contacts = None,
) -> list[Comment]:
    """The newest comments on ``survey``'s answers in force, newest first."""
    answers = in_force(since, until, survey, contacts)
    rows = session.execute(
        select(answers)
        .where(answers.c.comment.is_not(None))
        .order_by(answers.c.at.desc(), answers.c.id.desc())
        .limit(limit)
    )
    return [
        Comment(row.contact_id, int(row.score), str(row.category), row.at, str(row.comment))
        for row in rows
    ]
