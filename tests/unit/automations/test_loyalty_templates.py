"""The shipped loyalty workflows, played day by day through the pure engine with frozen times:
what each sends, and when it stops."""

from __future__ import annotations

from datetime import timedelta

from lealta.automations.catalog import load_template
from lealta.automations.definition import EventTrigger
from tests.unit.automations.factories import T0, contact
from tests.unit.automations.test_templates import DAY, commands, ending, order, play

MEMBER = contact(events=(order(T0 - 30 * DAY), order(T0 - 10 * DAY)))


# -- welcome to a new tier -----------------------------------------------------------------


def test_the_welcome_starts_at_every_upgrade_and_ends_at_once() -> None:
    rules = load_template("loyalty-tier-welcome")
    assert rules.trigger == EventTrigger(event="Loyalty Tier Upgraded")
    assert rules.entry.reenter == "always"
    timeline = play("loyalty-tier-welcome", MEMBER, days=30)
    assert commands(timeline, T0) == [
        (timedelta(0), "send email loyalty-tier-welcome"),
        (timedelta(0), "start loyalty-tier-reminder"),
    ]
    # nothing left under way, so the next upgrade's welcome is never held back
    assert ending(timeline, T0) == (timedelta(0), "done")


def test_a_member_who_does_not_order_gets_the_reminder_after_two_weeks() -> None:
    rules = load_template("loyalty-tier-reminder")
    assert rules.entry.reenter == "after_exit"  # one reminder on its way at a time
    timeline = play("loyalty-tier-reminder", MEMBER, days=30)
    assert commands(timeline, T0) == [(14 * DAY, "send email loyalty-tier-reminder")]
    assert ending(timeline, T0) == (14 * DAY, "exit: reminded")


def test_an_order_within_the_two_weeks_ends_the_reminder_as_a_conversion() -> None:
    timeline = play("loyalty-tier-reminder", MEMBER, days=30, events=[order(T0 + 3 * DAY)])
    assert commands(timeline, T0) == []
    assert ending(timeline, T0)[1] == "goal"


def test_an_order_placed_before_the_upgrade_does_not_count() -> None:
    timeline = play("loyalty-tier-reminder", MEMBER, days=30, events=[order(T0 - DAY)])
    assert commands(timeline, T0) == [(14 * DAY, "send email loyalty-tier-reminder")]


# -- a tier about to drop ------------------------------------------------------------------


def test_a_member_at_risk_is_told_at_once_and_an_order_is_the_goal() -> None:
    rules = load_template("loyalty-tier-at-risk")
    assert rules.trigger == EventTrigger(event="Loyalty Tier At Risk")
    assert rules.entry.reenter == "always"  # the event comes once per fall
    timeline = play("loyalty-tier-at-risk", MEMBER, days=10)
    assert commands(timeline, T0) == [(timedelta(0), "send email loyalty-tier-at-risk")]
    assert ending(timeline, T0) == (timedelta(0), "exit: told")
