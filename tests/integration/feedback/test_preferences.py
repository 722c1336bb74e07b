"""The preference page: consent per channel and the public lists, changed by a plain form."""

from __future__ import annotations

import re

from lealta.contacts.consent import consents_in_force, may_contact
from lealta.contacts.schemas import ListIn
from lealta.contacts.service import create_list, get_live, join_list
from lealta.forms import service as forms
from tests.integration.feedback.conftest import Feedback


def checked(page: str, name: str) -> list[str]:
    """The values of the ticked checkboxes called ``name``."""
    pattern = rf'name="{name}" value="([^"]+)" checked'
    return re.findall(pattern, page)


def make_lists(feedback: Feedback, ann: str) -> None:
    """A public newsletter (a form offers it) Ann is on, a public offers list she is not
    on, and an internal list she is on."""
    now = feedback.api.services.clock.now()
    with feedback.api.services.uow.transaction() as session:
        for slug, name in (
            ("news", "Monthly news"),
            ("offers", "Special offers"),
            ("high-value-churn-risk", "Churn risk"),
        ):
            create_list(session, ListIn(slug=slug, name=name), now=now)
        for slug in ("news", "offers"):
            forms.create(session, slug=f"{slug}-form", list_slug=slug, now=now)
        contact = get_live(session, ann)
        for slug in ("news", "high-value-churn-risk"):
            join_list(session, contact, slug, source="test", confirmed=True, now=now)


def test_the_page_shows_channels_and_public_lists_as_they_are(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com", channels=("email", "push"))
    make_lists(feedback, ann)
    page = feedback.api.client.get(feedback.path(feedback.links.preferences(ann)))
    assert page.status_code == 200
    assert checked(page.text, "channel") == ["email", "push"]
    assert 'value="sms"' in page.text
    assert 'value="web_push"' in page.text
    assert checked(page.text, "list") == ["news"]
    assert 'value="offers"' in page.text
    assert "Churn risk" not in page.text  # internal lists are never shown
    assert 'name="viewport"' in page.text
    assert page.headers["cache-control"].startswith("no-store")


def test_saving_the_form_changes_consent_and_lists(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com", channels=("email", "push"))
    make_lists(feedback, ann)
    path = feedback.path(feedback.links.preferences(ann))
    answer = feedback.api.client.post(
        path, data={"channel": ["sms", "push"], "list": ["offers", "high-value-churn-risk"]}
    )
    assert answer.status_code == 200
    assert "Your choices are saved" in answer.text
    assert checked(answer.text, "channel") == ["sms", "push"]
    assert checked(answer.text, "list") == ["offers"]
    with feedback.api.services.uow.transaction() as session:
        assert not may_contact(session, ann, "email")
        assert may_contact(session, ann, "sms")
        assert may_contact(session, ann, "push")
        assert consents_in_force(session, ann)["sms"].source == "preference-page"
        assert "web_push" not in consents_in_force(session, ann)  # never asked: left alone
    [updated] = feedback.events(ann, "Preferences Updated")
    assert updated.properties["channels"] == {"email": False, "sms": True}
    assert updated.properties["lists"] == {"news": False, "offers": True}
    again = feedback.api.client.get(path)
    assert checked(again.text, "list") == ["offers"]
    lists = feedback.api.client.get(f"/v1/contacts/{ann}", headers=feedback.api.admin).json()[
        "lists"
    ]
    assert {item["slug"]: item["status"] for item in lists}["high-value-churn-risk"] == (
        "subscribed"
    )  # the internal list was not on the page, so it stays as it was


def test_saving_with_nothing_ticked_stops_everything(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com", channels=("email", "sms"))
    path = feedback.path(feedback.links.preferences(ann))
    assert feedback.api.client.post(path, data={}).status_code == 200
    with feedback.api.services.uow.transaction() as session:
        assert not may_contact(session, ann, "email")
        assert not may_contact(session, ann, "sms")


def test_saving_the_same_choices_records_nothing_new(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    path = feedback.path(feedback.links.preferences(ann))
    assert feedback.api.client.post(path, data={"channel": "email"}).status_code == 200
    assert feedback.events(ann, "Preferences Updated") == []


def test_a_forged_preference_link_is_refused(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    bob = feedback.person("bob@example.com")
    anns = feedback.path(feedback.links.preferences(ann))
    bobs = feedback.path(feedback.links.preferences(bob))
    forged = bobs.split(".")[0] + "." + anns.split(".")[1]
    assert feedback.api.client.get(forged).status_code == 400
    assert feedback.api.client.post(forged, data={}).status_code == 400
    with feedback.api.services.uow.transaction() as session:
        assert may_contact(session, bob, "email")
