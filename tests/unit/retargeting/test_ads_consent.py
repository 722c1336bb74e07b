"""The ``ads`` consent channel: recorded like the others, never a way of sending."""

from __future__ import annotations

from lealta.channels.dispatcher import KNOWN_CHANNELS
from lealta.contacts.tables import CHANNELS
from lealta.feedback.preferences import CHANNEL_LABELS
from lealta.forms.embed import CHANNEL_LABELS as FORM_LABELS
from lealta.messages.model import CHANNELS as SENDING_CHANNELS
from lealta.tracking.consent import DEFAULT_CATEGORIES, decisions


def test_ads_is_a_consent_channel_with_words_for_people() -> None:
    assert "ads" in CHANNELS
    assert "advertising" in CHANNEL_LABELS["ads"].lower()
    assert "ads" in FORM_LABELS["ads"]


def test_ads_is_never_a_sending_channel() -> None:
    assert "ads" not in SENDING_CHANNELS
    assert "ads" not in KNOWN_CHANNELS


def test_tracking_reads_an_explicit_ads_decision_and_no_banner_category_implies_one() -> None:
    message = {
        "type": "identify",
        "traits": {"consent": {"ads": True}},
        "context": {"consent": {"categoryPreferences": {"Advertising": True, "Email": True}}},
    }

    found, problems = decisions(message, DEFAULT_CATEGORIES)

    assert {(d.channel, d.status) for d in found} == {("ads", "granted"), ("email", "granted")}
    assert problems == []
    banner_only = {"context": {"consent": {"categoryPreferences": {"Advertising": True}}}}
    assert decisions(banner_only, DEFAULT_CATEGORIES) == ([], [])
    mapped, _ = decisions(banner_only, {"advertising": ("ads",)})
    assert [(d.channel, d.status) for d in mapped] == [("ads", "granted")]
