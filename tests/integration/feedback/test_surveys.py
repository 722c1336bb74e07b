"""NPS links: the answer with its category, the comment, and a branch that uses them."""

from __future__ import annotations

import datetime as dt

from lealta.conditions import EventCountCondition, MessageCondition, evaluate
from lealta.conditions.views import contact_views
from lealta.feedback.surveys import latest_answer
from lealta.scoring.rules import Condition
from tests.integration.feedback.conftest import Feedback

PERSON = {"user-agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15"}


def answer(feedback: Feedback, outbox_id: int, score: int) -> str:
    """Follow the link for ``score``; the page's HTML."""
    path = feedback.path(feedback.links.survey(outbox_id, score))
    page = feedback.api.client.get(path, headers=PERSON)
    assert page.status_code == 200
    return page.text


def test_a_score_link_records_the_answer_with_its_category(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    page = answer(feedback, outbox_id, 6)
    assert "You gave us 6 out of 10" in page
    assert '<textarea id="comment" name="comment"' in page
    [answered] = feedback.interactions(outbox_id, "answered")
    assert answered.details == {"survey": "nps", "score": 6, "category": "detractor"}
    [event] = feedback.events(ann, "Survey Answered")
    assert event.properties["score"] == 6
    assert event.properties["category"] == "detractor"
    assert event.properties["survey"] == "nps"
    assert event.properties["template"] == "reactivation-feedback"
    assert event.properties["step"] == "feedback"
    assert len(feedback.interactions(outbox_id, "clicked")) == 1  # answering is reacting


def test_the_latest_answer_counts(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    answer(feedback, outbox_id, 3)
    answer(feedback, outbox_id, 9)
    assert len(feedback.interactions(outbox_id, "answered")) == 2  # the history stays
    with feedback.api.services.uow.transaction() as session:
        found = latest_answer(session, outbox_id=outbox_id, survey="nps")
    assert found is not None
    assert (found.score, found.category) == (9, "promoter")


def test_the_comment_is_stored_with_the_answer(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    answer(feedback, outbox_id, 8)
    path = feedback.path(feedback.links.survey(outbox_id, 8))
    page = feedback.api.client.post(path, data={"comment": "  Faster delivery, please.  "})
    assert page.status_code == 200
    assert "Your comment has reached us" in page.text
    with feedback.api.services.uow.transaction() as session:
        found = latest_answer(session, outbox_id=outbox_id, survey="nps")
    assert found is not None
    assert (found.score, found.comment) == (8, "Faster delivery, please.")
    [event] = feedback.events(ann, "Survey Commented")
    assert event.properties["comment"] == "Faster delivery, please."
    assert event.properties["category"] == "passive"


def test_an_empty_comment_is_asked_for_again(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    path = feedback.path(feedback.links.survey(outbox_id, 10))
    page = feedback.api.client.post(path, data={"comment": "   "})
    assert page.status_code == 400
    assert 'role="alert"' in page.text
    assert feedback.events(ann, "Survey Commented") == []


def test_a_comment_without_a_recorded_answer_records_the_links_score(
    feedback: Feedback,
) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    path = feedback.path(feedback.links.survey(outbox_id, 2))
    assert feedback.api.client.post(path, data={"comment": "Late again"}).status_code == 200
    with feedback.api.services.uow.transaction() as session:
        found = latest_answer(session, outbox_id=outbox_id, survey="nps")
    assert found is not None
    assert (found.score, found.category, found.comment) == (2, "detractor", "Late again")


def test_scanners_fetching_every_score_answer_nothing(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    for score in range(11):
        path = feedback.path(feedback.links.survey(outbox_id, score))
        scanned = feedback.api.client.get(path, headers={"user-agent": "Proofpoint URL Defense"})
        assert scanned.status_code == 200
    assert feedback.interactions(outbox_id, "answered") == []


def test_a_tampered_score_is_refused(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    low = feedback.path(feedback.links.survey(outbox_id, 0))
    high = feedback.path(feedback.links.survey(outbox_id, 10))
    forged = high.split(".")[0] + "." + low.split(".")[1]
    assert feedback.api.client.get(forged, headers=PERSON).status_code == 400
    assert feedback.interactions(outbox_id, "answered") == []


def test_workflow_branches_see_the_answer_and_the_click(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    entered = feedback.api.services.clock.now() - dt.timedelta(minutes=1)
    answer(feedback, outbox_id, 4)
    answer(feedback, outbox_id, 10)
    now = feedback.api.services.clock.now() + dt.timedelta(seconds=1)
    with feedback.api.services.uow.transaction() as session:
        view = contact_views(session, [ann], now=now)[ann]

    def holds(category: str, *, latest: bool) -> bool:
        condition = EventCountCondition(
            event="Survey Answered",
            since_entered=True,
            latest=latest,
            where=[Condition(property="category", op="equals", value=category)],
        )
        return evaluate(condition, view, now=now, entered_at=entered)

    assert holds("promoter", latest=True)
    assert not holds("detractor", latest=True)
    assert holds("detractor", latest=False)  # without latest, any answer since entry counts
    clicked = MessageCondition(template="reactivation-feedback", action="clicked")
    assert evaluate(clicked, view, now=now, entered_at=entered)
