"""The open pixel and tracked links: recorded per hit, tampered links refused."""

from __future__ import annotations

from sqlalchemy import distinct, func, select

from lealta.channels.tables import MessageInteraction
from lealta.rest.links import PIXEL
from tests.integration.feedback.conftest import Feedback

PERSON = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1"


def test_each_load_of_the_pixel_is_an_open_and_unique_opens_can_be_counted(
    feedback: Feedback,
) -> None:
    ann = feedback.person("ann@example.com")
    first, second = feedback.message(ann), feedback.message(ann, template="offer-reminder")
    client = feedback.api.client
    for outbox_id in (first, first, second):
        answer = client.get(feedback.path(feedback.links.open_pixel(outbox_id)))
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "image/gif"
        assert answer.content == PIXEL
        assert "no-store" in answer.headers["cache-control"]
    assert len(feedback.interactions(first, "opened")) == 2
    with feedback.api.services.uow.transaction() as session:
        total, unique = session.execute(
            select(func.count(), func.count(distinct(MessageInteraction.outbox_id))).where(
                MessageInteraction.kind == "opened"
            )
        ).one()
    assert (total, unique) == (3, 2)
    opened = feedback.events(ann, "Email Opened")
    assert len(opened) == 3
    assert opened[0].properties["template"] == "reactivation-feedback"
    assert opened[0].properties["outbox_id"] == first
    assert opened[0].properties["workflow"] == "inactive-reactivation"
    assert opened[0].properties["step"] == "feedback"
    assert opened[2].properties["template"] == "offer-reminder"


def test_a_broken_pixel_still_draws_but_records_nothing(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    path = feedback.path(feedback.links.open_pixel(outbox_id))
    payload, signature = path.removeprefix("/l/o/").removesuffix(".gif").split(".")
    for broken in (f"/l/o/{payload}.AAAA{signature[4:]}.gif", "/l/o/garbage.gif"):
        answer = feedback.api.client.get(broken)
        assert answer.status_code == 200
        assert answer.content == PIXEL
    assert feedback.api.client.head(path).status_code == 200
    assert feedback.interactions(outbox_id, "opened") == []


def test_a_click_redirects_to_the_signed_url_and_is_recorded(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    link = feedback.links.click(outbox_id, "https://shop.example/sale", utm={"medium": "email"})
    answer = feedback.api.client.get(
        feedback.path(link), headers={"user-agent": PERSON}, follow_redirects=False
    )
    assert answer.status_code == 302
    assert answer.headers["location"] == "https://shop.example/sale?utm_medium=email"
    clicks = feedback.interactions(outbox_id, "clicked")
    assert [click.url for click in clicks] == ["https://shop.example/sale?utm_medium=email"]
    [event] = feedback.events(ann, "Email Clicked")
    assert event.properties["url"] == "https://shop.example/sale?utm_medium=email"
    assert event.properties["template"] == "reactivation-feedback"


def test_a_tampered_click_link_is_refused_and_never_redirects(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    good = feedback.path(feedback.links.click(outbox_id, "https://shop.example/"))
    forged = feedback.links.click(outbox_id, "https://evil.example/")
    _, good_signature = good.removeprefix("/l/c/").split(".")
    forged_payload, _ = feedback.path(forged).removeprefix("/l/c/").split(".")
    survey = feedback.path(feedback.links.survey(outbox_id, 10)).removeprefix("/l/s/")
    for path in (
        f"/l/c/{forged_payload}.{good_signature}",  # another URL under a real signature
        f"/l/c/{survey}",  # a real token of another kind
        "/l/c/not-a-token",
    ):
        answer = feedback.api.client.get(path, follow_redirects=False)
        assert answer.status_code == 400
        assert "location" not in answer.headers
        assert "not valid" in answer.text or "malformed" in answer.text
    assert feedback.interactions(outbox_id, "clicked") == []


def test_a_link_scanner_is_redirected_without_counting_as_a_click(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    path = feedback.path(feedback.links.click(outbox_id, "https://shop.example/"))
    answer = feedback.api.client.get(
        path, headers={"user-agent": "Mozilla/5.0 (compatible; Mimecast)"}, follow_redirects=False
    )
    assert answer.status_code == 302
    assert feedback.interactions(outbox_id, "clicked") == []


def test_a_click_on_a_message_deleted_since_still_redirects(feedback: Feedback) -> None:
    path = feedback.path(feedback.links.click(999_999, "https://shop.example/"))
    answer = feedback.api.client.get(path, follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"] == "https://shop.example/"
