"""NPS answers from signed survey links, and the comment left after answering.

A message carries one link per score (``Links.survey(outbox_id, score)``). Following one
records an ``answered`` interaction with ``score``, ``category`` and ``survey`` in its details,
a ``Survey Answered`` event with the same properties, and a ``clicked`` interaction (so a
``message … clicked`` condition sees that the person reacted to the message).

**The latest answer counts.** Following another score's link later records another answer;
nothing is overwritten (the history stays), and whoever reads answers takes the newest per
message and survey: :func:`latest_answer` here, ``latest: true`` in an ``event_count``
condition of a workflow. A comment belongs to the answer in force when it is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.channels.tables import MessageInteraction, OutboxMessage
from lealta.errors import InvalidInput, NotFound
from lealta.feedback.service import add_event, context, record

LONGEST_COMMENT = 2000
LONGEST_SURVEY = 64
COMMENTED = "Survey Commented"


def category(score: int) -> str:
    """The NPS category of a 0-10 score: ``promoter`` (9-10), ``passive`` (7-8) or
    ``detractor`` (0-6).

    >>> category(10), category(7), category(6)
    ('promoter', 'passive', 'detractor')
    """
    if not 0 <= score <= 10:
        raise InvalidInput("a survey score is between 0 and 10", field="score")
    if score >= 9:
        return "promoter"
    return "passive" if score >= 7 else "detractor"


@dataclass(frozen=True)
class Answer:
    """An answer in force: the message, survey, score, its category and any comment."""

    outbox_id: int
    survey: str
    score: int
    category: str
    at: dt.datetime
    comment: str | None = None


def answer(session: Session, *, outbox_id: int, score: int, survey: str, at: dt.datetime) -> Answer:
    """Record ``score`` as the answer to ``survey`` of message ``outbox_id``."""
    if not isinstance(score, int) or isinstance(score, bool):
        raise InvalidInput("a survey score is a whole number", field="score")
    if not survey or len(survey) > LONGEST_SURVEY:
        raise InvalidInput(f"survey must be 1 to {LONGEST_SURVEY} characters", field="survey")
    group = category(score)
    details = {"survey": survey, "score": score, "category": group}
    record(session, outbox_id=outbox_id, kind="answered", at=at, details=details)
    record(session, outbox_id=outbox_id, kind="clicked", at=at, details={"link": "survey"})
    return Answer(outbox_id, survey, score, group, at)


def latest_answer(session: Session, *, outbox_id: int, survey: str) -> Answer | None:
    """The answer in force to ``survey`` of message ``outbox_id`` (the newest), if any."""
    row = _latest(session, outbox_id, survey)
    if row is None:
        return None
    details = row.details or {}
    comment = details.get("comment")
    return Answer(
        outbox_id=outbox_id,
        survey=survey,
        score=int(details["score"]),
        category=str(details["category"]),
        at=row.at,
        comment=str(comment) if comment is not None else None,
    )


def comment(session: Session, *, outbox_id: int, survey: str, text: str, at: dt.datetime) -> Answer:
    """Attach ``text`` to the answer in force and append a ``Survey Commented`` event.

    Writing again replaces the comment on the answer; every version stays on the timeline.
    ``NotFound`` when the survey was not answered; ``InvalidInput`` (field ``comment``) for
    an empty or too long text.
    """
    cleaned = text.strip()
    if not cleaned or len(cleaned) > LONGEST_COMMENT:
        raise InvalidInput(f"a comment is 1 to {LONGEST_COMMENT} characters", field="comment")
    row = _latest(session, outbox_id, survey)
    message = session.get(OutboxMessage, outbox_id)
    if row is None or message is None:
        raise NotFound(f"survey {survey!r} of message {outbox_id} has no answer")
    row.details = {**(row.details or {}), "comment": cleaned}
    session.flush()
    details = row.details
    add_event(
        session,
        contact_id=message.contact_id,
        name=COMMENTED,
        properties={
            **context(message),
            "survey": survey,
            "score": details["score"],
            "category": details["category"],
            "comment": cleaned,
        },
        at=at,
        message_id=f"interaction:{row.id}:comment:{_stamp(at)}",
    )
    found = latest_answer(session, outbox_id=outbox_id, survey=survey)
    assert found is not None
    return found


def _latest(session: Session, outbox_id: int, survey: str) -> MessageInteraction | None:
    rows = session.scalars(
        select(MessageInteraction)
        .where(MessageInteraction.outbox_id == outbox_id, MessageInteraction.kind == "answered")
        .order_by(MessageInteraction.at.desc(), MessageInteraction.id.desc())
    )
    # Few answers per message: filtering the survey name here keeps the query portable
    # (JSON path operators differ between SQLite and PostgreSQL).
    for row in rows:
        if (row.details or {}).get("survey") == survey:
            return row
    return None


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
