"""The shipped loyalty workflows, played day by day through the pure engine with frozen times:
what each sends, and when it stops."""

from __future__ import annotations

from datetime import timedelta

from lealta.automations.catalog import load_template
from lealta.automations.definition import EventTrigger
from tests.unit.automations.factories import T0, contact, event
from tests.unit.automations.test_templates import DAY, HOUR, commands, ending, order, play

MEMBER = contact(events=(order(T0 - 30 * DAY), order(T0 - 10 * DAY)))


# -- welcome to a new tier -----------------------------------------------------------------


def test_the_welcome_starts_at_every_upgrade() -> None:
    rules = load_template("loyalty-tier-welcome")
    assert rules.trigger == EventTrigger(event="Loyalty Tier Upgraded")
    assert rules.entry.reenter == "always"
    assert rules.entry.max_active == 2  # the next upgrade's welcome while this one waits


def test_a_new_member_who_does_not_order_gets_the_reminder_after_two_weeks() -> None:
    timeline = play("loyalty-tier-welcome", MEMBER, days=30)
    assert commands(timeline, T0) == [
        (timedelta(0), "send email loyalty-tier-welcome"),
        (14 * DAY, "send email loyalty-tier-reminder"),
    ]
    assert ending(timeline, T0) == (14 * DAY, "exit: reminded")


def test_an_order_after_the_welcome_ends_the_run_without_a_reminder() -> None:
    timeline = play("loyalty-tier-welcome", MEMBER, days=30, events=[order(T0 + 3 * DAY)])
    assert commands(timeline, T0) == [(timedelta(0), "send email loyalty-tier-welcome")]
    assert ending(timeline, T0)[1] == "goal"


def test_a_further_upgrade_ends_the_run_and_its_own_welcome_takes_over() -> None:
    again = event("Loyalty Tier Upgraded", T0 + 5 * DAY + HOUR, **{"from": "Silver", "to": "Gold"})
    timeline = play("loyalty-tier-welcome", MEMBER, days=30, events=[again])
    assert commands(timeline, T0) == [(timedelta(0), "send email loyalty-tier-welcome")]
    assert ending(timeline, T0)[1] == "exit: moved up again"
