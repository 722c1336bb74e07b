"""What following a link records: the NPS category, the event name, and machines ignored."""

from __future__ import annotations

import pytest

from lealta.errors import InvalidInput
from lealta.feedback.bots import is_machine
from lealta.feedback.service import event_name
from lealta.feedback.surveys import category


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0, "detractor"),
        (6, "detractor"),
        (7, "passive"),
        (8, "passive"),
        (9, "promoter"),
        (10, "promoter"),
    ],
)
def test_nps_categories_follow_the_usual_bounds(score: int, expected: str) -> None:
    assert category(score) == expected


@pytest.mark.parametrize("score", [-1, 11])
def test_a_score_outside_the_scale_has_no_category(score: int) -> None:
    with pytest.raises(InvalidInput):
        category(score)


@pytest.mark.parametrize(
    ("channel", "kind", "name"),
    [
        ("email", "opened", "Email Opened"),
        ("email", "clicked", "Email Clicked"),
        ("email", "bounced", "Email Bounced"),
        ("sms", "clicked", "SMS Clicked"),
        ("push", "opened", "Push Opened"),
        ("webpush", "delivered", "Web Push Delivered"),
        ("email", "unsubscribed", "Unsubscribed"),
        ("email", "complained", "Complaint Received"),
        ("sms", "answered", "Survey Answered"),
        ("email", "converted", "Message Converted"),
        ("carrier-pigeon", "clicked", "Message Clicked"),
    ],
)
def test_event_names_say_the_channel_where_it_matters(channel: str, kind: str, name: str) -> None:
    assert event_name(channel, kind) == name


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("HEAD", {}),
        ("GET", {"user-agent": "Mozilla/5.0 (compatible; BingPreview/1.0b)"}),
        ("GET", {"user-agent": "Slackbot-LinkExpanding 1.0"}),
        ("GET", {"sec-purpose": "prefetch;prerender"}),
        ("GET", {"purpose": "prefetch"}),
    ],
)
def test_scanners_previews_and_prefetches_are_machines(
    method: str, headers: dict[str, str]
) -> None:
    assert is_machine(method, headers)


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
        "",
    ],
)
def test_people_and_image_proxies_are_not_machines(agent: str) -> None:
    assert not is_machine("GET", {"user-agent": agent})
