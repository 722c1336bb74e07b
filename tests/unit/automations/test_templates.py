"""The shipped workflow templates, each played day by day through the pure engine with frozen
times and realistic contacts: what is sent, issued and tagged, and exactly when."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from lealta.automations.catalog import load_template, template_text, templates
from lealta.automations.definition import (
    AnniversaryTrigger,
    CountInWindowTrigger,
    EventTrigger,
    ScheduleTrigger,
    SegmentEnteredTrigger,
    StageChangedTrigger,
    WorkflowDefinition,
    dump,
    load_definition,
)
from lealta.automations.durations import as_date, next_local_moment, parse_clock, parse_cron
from lealta.automations.engine import (
    AddScore,
    AddTags,
    CallWebhook,
    Command,
    IssueVoucher,
    JoinLists,
    Send,
    SetStage,
    StartWorkflow,
    StepLog,
    advance,
    simulate,
    start,
)
from lealta.conditions import ContactView, EventView, event_matches
from lealta.errors import NotFound
from tests.unit.automations.factories import T0, contact, event

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
Timeline = list[tuple[datetime, StepLog | Command]]

TEMPLATE_IDS = [
    "abandoned-cart",
    "birthday",
    "champions-thanks",
    "content-download",
    "inactive-reactivation",
    "lifecycle-nurture",
    "loyal-customers",
    "loyalty-points-expiring",
    "loyalty-seasonal-reengagement",
    "loyalty-tier-at-risk",
    "loyalty-tier-reminder",
    "loyalty-tier-welcome",
    "purchase-streak",
    "regulars",
    "seasonal-reengagement",
    "welcome-series",
    "win-back",
]


def describe(command: StepLog | Command) -> str:
    """A command in a few words: what a marketer would check."""
    match command:
        case Send():
            return f"send {command.channel} {command.template}"
        case IssueVoucher():
            return f"voucher {command.kind} {command.value} {command.valid_days}d"
        case AddTags():
            return "tag +" + ",".join(command.tags)
        case JoinLists():
            return "list +" + ",".join(command.lists)
        case AddScore():
            return f"score {command.points:+g}"
        case CallWebhook():
            return f"webhook {command.method} {command.url}"
        case StartWorkflow():
            return f"start {command.workflow}"
    raise AssertionError(f"unexpected {command!r}")


def commands(timeline: Timeline, since: datetime) -> list[tuple[timedelta, str]]:
    """The commands of a simulation, as (time after ``since``, description)."""
    return [(at - since, describe(item)) for at, item in timeline if not isinstance(item, StepLog)]


def ending(timeline: Timeline, since: datetime) -> tuple[timedelta, str]:
    """When and how the simulated run stopped: ``goal``, ``exit: REASON``, ``waiting`` (the
    horizon came first) or ``done`` (it ran out of steps right after its last command)."""
    at, item = timeline[-1]
    if not isinstance(item, StepLog):
        return at - since, "done"
    if item.outcome == "exit":
        return at - since, f"exit: {item.detail['reason']}"
    return at - since, item.outcome


def play(
    template_id: str,
    who: ContactView,
    *,
    days: float,
    events: Sequence[EventView] = (),
    begin: datetime = T0,
) -> Timeline:
    return simulate(
        load_template(template_id), who, start=begin, days=days, events=events, step_hours=6
    )


def order(at: datetime, total: float = 60.0) -> EventView:
    return event("Order Completed", at, total=total)


# -- the catalog ---------------------------------------------------------------------------


def test_the_catalog_lists_every_template_with_a_description() -> None:
    listed = templates()
    assert [info.id for info in listed] == TEMPLATE_IDS
    for info in listed:
        assert info.path.endswith(f"templates/{info.id}.yaml")
        assert info.name == load_template(info.id).name
        assert len(info.description) > 150, info.id  # explains the workflow to a marketer
        assert "\n" not in info.description
        assert f"id: {info.id}\n" in template_text(info.id)


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_every_template_validates_and_round_trips(template_id: str) -> None:
    definition = load_template(template_id)
    assert definition.id == template_id
    again = load_definition(dump(definition))
    assert again == definition
    assert load_definition(json.dumps(dump(again))) == definition
    assert dump(load_definition(template_text(template_id))) == dump(definition)


def test_the_templates_ship_as_package_data() -> None:
    folder = resources.files("lealta.automations").joinpath("templates")
    names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".yaml"))
    assert names == [f"{template_id}.yaml" for template_id in TEMPLATE_IDS]


@pytest.mark.parametrize("wanted", ["nope", "../definition", "abandoned-cart.yaml", ""])
def test_an_unknown_template_is_not_found(wanted: str) -> None:
    with pytest.raises(NotFound):
        load_template(wanted)
    with pytest.raises(NotFound):
        template_text(wanted)


def test_templates_start_only_workflows_the_catalog_ships() -> None:
    started = {
        (template_id, step.workflow)
        for template_id in TEMPLATE_IDS
        for step in load_template(template_id).steps
        if step.type == "start_workflow"
    }
    assert started == {
        ("loyal-customers", "regulars"),
        ("loyalty-tier-welcome", "loyalty-tier-reminder"),
    }
    assert load_template("regulars").trigger.type == "manual"
    assert load_template("loyalty-tier-reminder").trigger.type == "manual"


def test_no_template_forces_a_lifecycle_stage() -> None:
    for template_id in TEMPLATE_IDS:
        assert all(step.type != "stage" for step in load_template(template_id).steps)


# -- 1. inactive customers -----------------------------------------------------------------

PAST_CUSTOMER = contact(
    stage="Inactive",
    events=(order(T0 - 250 * DAY), order(T0 - 200 * DAY)),
)


def test_reactivation_starts_when_the_stage_becomes_inactive() -> None:
    trigger = load_template("inactive-reactivation").trigger
    assert trigger == StageChangedTrigger(to="Inactive")


def test_a_past_customer_who_clicks_gets_the_feedback_offer_then_reminders() -> None:
    clicked = event("Email Clicked", T0 + DAY + 3 * HOUR, template="reactivation-feedback")
    timeline = play("inactive-reactivation", PAST_CUSTOMER, days=20, events=[clicked])
    assert commands(timeline, T0) == [
        (timedelta(0), "voucher percent 20 14d"),  # before the e-mail, so it can show the code
        (timedelta(0), "send email reactivation-feedback"),
        (5 * DAY, "tag +partially active"),
        (9 * DAY, "send email offer-reminder"),
        (12 * DAY, "send email offer-expiring"),  # the voucher runs out on day 14
    ]
    feedback = next(item for _, item in timeline if isinstance(item, Send))
    assert feedback.data == {"question": "nps"}
    assert ending(timeline, T0) == (12 * DAY, "exit: offer expired")


def test_a_one_time_buyer_who_ignores_the_seasonal_offer_gets_a_last_chance() -> None:
    once = contact(stage="Inactive", events=(order(T0 - 300 * DAY),))
    opened_only = event("Email Opened", T0 + 2 * DAY, template="reactivation-seasonal")
    other_click = event("Email Clicked", T0 + 2 * DAY, template="newsletter-june")
    timeline = play("inactive-reactivation", once, days=20, events=[opened_only, other_click])
    assert commands(timeline, T0) == [
        (timedelta(0), "voucher percent 10 14d"),
        (timedelta(0), "send email reactivation-seasonal"),
        (5 * DAY, "send email reactivation-last-chance"),
    ]
    assert ending(timeline, T0) == (5 * DAY, "exit: no interaction")


def test_orders_older_than_400_days_are_no_purchase_history() -> None:
    long_ago = contact(stage="Inactive", events=(order(T0 - 500 * DAY), order(T0 - 420 * DAY)))
    timeline = play("inactive-reactivation", long_ago, days=1)
    assert commands(timeline, T0)[1] == (timedelta(0), "send email reactivation-seasonal")


def test_a_purchase_ends_the_reactivation_as_a_conversion() -> None:
    clicked = event("Email Clicked", T0 + 2 * DAY, template="reactivation-feedback")
    bought = order(T0 + 7 * DAY + 2 * HOUR)
    timeline = play("inactive-reactivation", PAST_CUSTOMER, days=20, events=[clicked, bought])
    assert [what for _, what in commands(timeline, T0)][-1] == "tag +partially active"
    assert ending(timeline, T0) == (7 * DAY + 2 * HOUR, "goal")


# -- 2. loyal customers and regulars -------------------------------------------------------

MADRID = ZoneInfo("Europe/Madrid")


def test_the_tenth_order_in_six_months_makes_a_loyal_customer() -> None:
    definition = load_template("loyal-customers")
    assert definition.trigger == CountInWindowTrigger(
        event="Order Completed", count=10, window_days=183
    )
    assert definition.entry.reenter == "never"
    timeline = play("loyal-customers", contact(), days=30)
    assert commands(timeline, T0) == [
        (timedelta(0), "list +loyal-customers"),
        (timedelta(0), "voucher percent 15 60d"),
        (timedelta(0), "send email loyal-welcome"),
        (timedelta(0), "start regulars"),
    ]
    assert ending(timeline, T0) == (timedelta(0), "done")


def test_regulars_get_perks_on_tuesday_mornings_while_they_keep_buying() -> None:
    # Orders every three weeks until mid-May; 90 days after the last one the perks stop.
    orders = tuple(order(T0 + n * 21 * DAY) for n in range(-2, 4))
    regular = contact(lists={"loyal-customers": "subscribed"}, timezone="Europe/Madrid")
    timeline = play("regulars", regular, days=240, events=orders)
    sends = [at for at, item in timeline if isinstance(item, Send)]
    assert all(item.template == "regulars-perks" for _, item in timeline if isinstance(item, Send))
    assert [at.astimezone(MADRID).replace(tzinfo=None) for at in sends] == [
        datetime(2025, 4, 1, 10, 0),  # 27 days, then the next Tuesday at 10:00 (summer time)
        datetime(2025, 4, 29, 10, 0),
        datetime(2025, 5, 27, 10, 0),
        datetime(2025, 6, 24, 10, 0),
        datetime(2025, 7, 22, 10, 0),
    ]
    last_order = T0 + 3 * 21 * DAY
    assert sends[-1] - last_order < 90 * DAY
    at, how = ending(timeline, T0)
    assert how == "exit: no longer a regular"
    assert T0 + at == datetime(2025, 8, 19, 8, 0, tzinfo=UTC)  # Tue 10:00 in Madrid
    assert T0 + at - last_order > 90 * DAY


def test_regulars_who_left_the_list_get_no_perks() -> None:
    former = contact(lists={"loyal-customers": "unsubscribed"}, events=(order(T0),))
    timeline = play("regulars", former, days=60)
    assert commands(timeline, T0) == []
    assert ending(timeline, T0)[1] == "exit: no longer a regular"


# -- 3. purchase streak --------------------------------------------------------------------


def test_a_third_purchase_within_two_weeks_earns_a_voucher_for_the_next() -> None:
    definition = load_template("purchase-streak")
    assert definition.trigger == CountInWindowTrigger(
        event="Order Completed", count=3, window_days=14
    )
    streak = contact(events=(order(T0 - 9 * DAY), order(T0 - 4 * DAY), order(T0)))
    timeline = play("purchase-streak", streak, days=7)
    assert commands(timeline, T0) == [
        (timedelta(0), "voucher percent 15 30d"),
        (timedelta(0), "send email streak-reward"),
    ]
    assert ending(timeline, T0) == (timedelta(0), "done")
    assert (definition.entry.reenter, definition.entry.reenter_after_days) == ("after_exit", 30)


# -- 4. birthday ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "birthday", "greeted_utc"),
    [
        ("Asia/Tokyo", "1990-07-14", datetime(2025, 7, 14, 0, 0, tzinfo=UTC)),
        ("America/Los_Angeles", "1985-07-14", datetime(2025, 7, 14, 16, 0, tzinfo=UTC)),
        ("America/Los_Angeles", "--12-02", datetime(2025, 12, 2, 17, 0, tzinfo=UTC)),
        ("Asia/Tokyo", "2000-02-29", datetime(2026, 2, 28, 0, 0, tzinfo=UTC)),
    ],
)
def test_birthdays_are_greeted_at_nine_in_the_morning_local_time(
    zone: str, birthday: str, greeted_utc: datetime
) -> None:
    definition = load_template("birthday")
    trigger = definition.trigger
    assert isinstance(trigger, AnniversaryTrigger)
    assert (trigger.attribute, trigger.at, trigger.days_before) == ("birthday", "09:00", 0)
    # When the anniversary sweep enrols the contact: their birthday at 09:00 where they live.
    enrolled = next_local_moment(
        datetime(2025, 6, 1, tzinfo=UTC),
        ZoneInfo(zone),
        at=parse_clock(trigger.at),
        anniversary=as_date(birthday),
        days_before=trigger.days_before,
    )
    assert enrolled == greeted_utc
    person = contact(attributes={"birthday": birthday}, timezone=zone)
    timeline = simulate(definition, person, start=enrolled, days=2)
    assert [(at, describe(item)) for at, item in timeline if not isinstance(item, StepLog)] == [
        (greeted_utc, "voucher percent 20 30d"),
        (greeted_utc, "send email birthday"),
    ]
    local = greeted_utc.astimezone(ZoneInfo(zone))
    assert (local.hour, local.minute) == (9, 0)
    assert definition.entry.reenter_after_days == 300


# -- 5. welcome series ---------------------------------------------------------------------


def test_the_welcome_series_starts_on_the_newsletter_form_only() -> None:
    trigger = load_template("welcome-series").trigger
    assert isinstance(trigger, EventTrigger)
    newsletter = event("Form Submitted", T0, form="newsletter", list="news")
    contact_us = event("Form Submitted", T0, form="contact-us")
    assert event_matches(newsletter, trigger.event, trigger.where)
    assert not event_matches(contact_us, trigger.event, trigger.where)


def test_a_confirmed_subscriber_gets_the_three_welcome_emails() -> None:
    subscriber = contact(consent={"email": "granted"})
    timeline = play("welcome-series", subscriber, days=14)
    assert commands(timeline, T0) == [
        (timedelta(0), "send email welcome"),
        (2 * DAY, "send email welcome-2"),
        (6 * DAY, "voucher percent 10 14d"),
        (6 * DAY, "send email welcome-3"),
    ]
    assert ending(timeline, T0) == (6 * DAY, "exit: series sent")


def test_a_double_opt_in_waits_for_the_confirmation() -> None:
    pending = contact(consent={"email": "pending"}, lists={"newsletter": "pending"})
    confirmed = event("Subscription Confirmed", T0 + 5 * HOUR, form="newsletter")
    timeline = play("welcome-series", pending, days=14, events=[confirmed])
    assert commands(timeline, T0) == [
        (5 * HOUR, "send email welcome"),
        (2 * DAY + 5 * HOUR, "send email welcome-2"),
        (6 * DAY + 5 * HOUR, "voucher percent 10 14d"),
        (6 * DAY + 5 * HOUR, "send email welcome-3"),
    ]


def test_an_unconfirmed_sign_up_leaves_after_three_days() -> None:
    pending = contact(consent={"email": "pending"})
    late = event("Subscription Confirmed", T0 + 3 * DAY + HOUR)
    timeline = play("welcome-series", pending, days=14, events=[late])
    assert commands(timeline, T0) == []
    assert ending(timeline, T0) == (3 * DAY, "exit: unconfirmed")


def test_a_first_order_ends_the_welcome_series_before_the_voucher() -> None:
    subscriber = contact(consent={"email": "granted"}, events=(order(T0 - 30 * DAY),))
    timeline = play("welcome-series", subscriber, days=14, events=[order(T0 + 3 * DAY)])
    assert commands(timeline, T0) == [
        (timedelta(0), "send email welcome"),
        (2 * DAY, "send email welcome-2"),
    ]
    assert ending(timeline, T0) == (3 * DAY, "goal")


# -- 6. abandoned cart ---------------------------------------------------------------------


def test_an_abandoned_cart_gets_a_reminder_then_a_voucher() -> None:
    shopper = contact(events=(order(T0 - 40 * DAY),))  # an earlier order is no conversion
    timeline = play("abandoned-cart", shopper, days=7)
    assert commands(timeline, T0) == [
        (HOUR, "send email cart-reminder-1"),
        (DAY + HOUR, "voucher percent 10 7d"),
        (DAY + HOUR, "send email cart-reminder-2"),
    ]
    reminders = [item for _, item in timeline if isinstance(item, Send)]
    assert [reminder.data for reminder in reminders] == [
        {"cart": "{{ trigger.properties.products }}"}
    ] * 2
    assert ending(timeline, T0) == (DAY + HOUR, "exit: reminders sent")


def test_buying_within_the_hour_sends_nothing() -> None:
    timeline = play("abandoned-cart", contact(), days=7, events=[order(T0 + timedelta(minutes=30))])
    assert commands(timeline, T0) == []
    assert ending(timeline, T0) == (timedelta(minutes=30), "goal")


def test_buying_after_the_first_reminder_stops_the_second() -> None:
    timeline = play("abandoned-cart", contact(), days=7, events=[order(T0 + 5 * HOUR)])
    assert commands(timeline, T0) == [(HOUR, "send email cart-reminder-1")]
    assert ending(timeline, T0) == (5 * HOUR, "goal")


def test_without_its_goal_the_cart_waits_still_notice_the_order() -> None:
    document = dump(load_template("abandoned-cart"))
    definition = load_definition({**document, "goal": None})
    timeline = simulate(definition, contact(), start=T0, days=3, events=[order(T0 + 3 * HOUR)])
    assert commands(timeline, T0) == [(HOUR, "send email cart-reminder-1")]
    assert ending(timeline, T0) == (3 * HOUR, "exit: purchased")


# -- 7. lifecycle nurture ------------------------------------------------------------------


def journey(
    definition: WorkflowDefinition, stages: Sequence[tuple[datetime, str]], *, days: int
) -> Timeline:
    """A run through ``definition`` while the contact moves through ``stages`` (time, stage),
    each move being a ``Lifecycle Stage Changed`` event; the first is the one that enrols."""
    moves = [
        event("Lifecycle Stage Changed", at, to=stage, **{"from": before})
        for (at, stage), (_, before) in zip(stages, [(None, None), *stages], strict=False)
    ]

    def seen(moment: datetime) -> ContactView:
        stage = [name for at, name in stages if at <= moment][-1]
        return contact(stage=stage, events=tuple(e for e in moves if e.occurred_at <= moment))

    begin = stages[0][0]
    outcome = start(definition, run_id="journey", contact=seen(begin), now=begin)
    timeline: Timeline = [(begin, item) for item in outcome.trail]
    at, stop = begin, begin + days * DAY
    while not outcome.state.ended:
        coming = [e.occurred_at for e in moves if e.occurred_at > at]
        if outcome.state.wake_at is not None:
            coming.append(outcome.state.wake_at)
        if not coming or min(coming) > stop:
            break
        at = min(coming)
        outcome = advance(definition, outcome.state, contact=seen(at), now=at)
        timeline += [(at, item) for item in outcome.trail]
    return timeline


def test_nurture_follows_the_contact_from_visitor_to_customer() -> None:
    definition = load_template("lifecycle-nurture")
    assert definition.trigger == StageChangedTrigger()
    stages = [(T0, "Visitor"), (T0 + 2 * DAY, "Lead"), (T0 + 10 * DAY + 4 * HOUR, "Customer")]
    timeline = journey(definition, stages, days=60)
    assert commands(timeline, T0) == [
        (timedelta(0), "send email nurture-content"),
        (3 * DAY, "send email nurture-offer"),  # a day after becoming a Lead
        (11 * DAY + 4 * HOUR, "send email nurture-cross-sell"),
    ]
    assert ending(timeline, T0) == (41 * DAY + 4 * HOUR, "exit: no stage change in 30 days")
    assert not any(isinstance(item, SetStage) for _, item in timeline)


def test_nurture_sends_only_the_latest_stage_after_quick_moves() -> None:
    definition = load_template("lifecycle-nurture")
    stages = [(T0, "Lead"), (T0 + 5 * DAY, "Customer"), (T0 + 5 * DAY + 6 * HOUR, "Loyal")]
    timeline = journey(definition, stages, days=60)
    assert commands(timeline, T0) == [(timedelta(0), "send email nurture-offer")]
    assert ending(timeline, T0) == (6 * DAY, "exit: no nurture for this stage")


def test_nurture_ignores_stages_it_has_no_email_for() -> None:
    timeline = play("lifecycle-nurture", contact(stage="Inactive"), days=5)
    assert commands(timeline, T0) == []
    assert ending(timeline, T0) == (timedelta(0), "exit: no nurture for this stage")


# -- 8. seasonal re-engagement -------------------------------------------------------------

SEASON = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)


def test_the_season_opens_on_the_first_of_november_at_nine() -> None:
    definition = load_template("seasonal-reengagement")
    trigger = definition.trigger
    assert isinstance(trigger, ScheduleTrigger)
    schedule = parse_cron(trigger.cron)
    zone = ZoneInfo(definition.timezone)
    assert schedule.next_after(datetime(2025, 6, 1, tzinfo=UTC), zone) == SEASON
    assert schedule.next_after(SEASON, zone) == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("history", "invited"),
    [
        ([(SEASON - 235 * DAY, 180.0), (SEASON - 73 * DAY, 40.0)], True),
        ([(SEASON - 300 * DAY, "120.00")], True),  # totals sent as text count too
        ([(SEASON - 150 * DAY, 150.0), (SEASON - 17 * DAY, 20.0)], False),  # bought recently
        ([(SEASON - 200 * DAY, 60.0), (SEASON - 100 * DAY, 80.0)], False),  # no order of 100
        ([(SEASON - 382 * DAY, 150.0)], False),  # the big order is over a year old
        ([], False),
    ],
)
def test_only_lapsed_big_spenders_are_invited_back(
    history: list[tuple[datetime, object]], invited: bool
) -> None:
    person = contact(events=tuple(event("Order Completed", at, total=t) for at, t in history))
    timeline = play("seasonal-reengagement", person, days=3, begin=SEASON)
    if invited:
        assert commands(timeline, SEASON) == [
            (timedelta(0), "voucher percent 15 30d"),
            (timedelta(0), "send email season-is-back"),
        ]
        assert ending(timeline, SEASON) == (timedelta(0), "exit: invited")
    else:
        assert commands(timeline, SEASON) == []
        assert ending(timeline, SEASON) == (timedelta(0), "exit: not eligible")


# -- 9. RFM moves --------------------------------------------------------------------------


def test_win_back_starts_when_best_customers_slip_to_at_risk() -> None:
    assert load_template("win-back").trigger == SegmentEnteredTrigger(
        segment="At Risk", from_segments=["Champions", "Loyal"]
    )
    slipping = contact(segment="At Risk", events=(order(T0 - 80 * DAY),))
    timeline = play("win-back", slipping, days=30)
    assert commands(timeline, T0) == [
        (timedelta(0), "send email win-back-1"),
        (3 * DAY, "voucher percent 15 14d"),
        (3 * DAY, "send email win-back-2"),
        (10 * DAY, "send email win-back-3"),
    ]
    assert ending(timeline, T0) == (10 * DAY, "exit: sequence sent")


@pytest.mark.parametrize(
    ("bought_after", "sent"),
    [
        (DAY, ["send email win-back-1"]),
        (5 * DAY, ["send email win-back-1", "voucher percent 15 14d", "send email win-back-2"]),
    ],
)
def test_a_purchase_wins_the_customer_back(bought_after: timedelta, sent: list[str]) -> None:
    slipping = contact(segment="At Risk")
    timeline = play("win-back", slipping, days=30, events=[order(T0 + bought_after)])
    assert [what for _, what in commands(timeline, T0)] == sent
    assert ending(timeline, T0) == (bought_after, "goal")


def test_new_champions_are_thanked_and_invited_to_the_preview() -> None:
    assert load_template("champions-thanks").trigger == SegmentEnteredTrigger(segment="Champions")
    timeline = play("champions-thanks", contact(segment="Champions"), days=10)
    assert commands(timeline, T0) == [
        (timedelta(0), "send email champions-thanks"),
        (timedelta(0), "tag +vip-preview"),
        (2 * DAY, "send email exclusive-preview"),
    ]
    assert ending(timeline, T0) == (2 * DAY, "done")


# -- 10. content download ------------------------------------------------------------------


def test_a_download_by_a_cool_lead_ends_with_the_digest() -> None:
    reader = contact(score=20.0)
    timeline = play("content-download", reader, days=20)
    assert commands(timeline, T0) == [
        (timedelta(0), "score +10"),
        (2 * DAY, "send email related-content"),
        (9 * DAY, "send email content-digest"),
    ]
    assert ending(timeline, T0) == (9 * DAY, "done")


def test_a_download_by_a_hot_lead_hands_them_to_sales() -> None:
    hot = contact(id="c-42", score=55.0)
    timeline = play("content-download", hot, days=20)
    assert commands(timeline, T0) == [
        (timedelta(0), "score +10"),
        (2 * DAY, "send email related-content"),
        (2 * DAY, "tag +sales-ready"),
        (2 * DAY, "webhook POST https://crm.example.com/hooks/lealta"),
    ]
    hook = next(item for _, item in timeline if isinstance(item, CallWebhook))
    assert hook.body == {"contact_id": "{{ contact.id }}", "reason": "sales-ready"}
    assert ending(timeline, T0) == (2 * DAY, "exit: handed to sales")


def test_the_score_is_read_when_the_follow_up_goes_out() -> None:
    definition = load_template("content-download")
    first = start(definition, run_id="r", contact=contact(score=45.0), now=T0)
    later = advance(definition, first.state, contact=contact(score=50.0), now=T0 + 2 * DAY)
    assert [describe(c) for c in later.commands] == [
        "send email related-content",
        "tag +sales-ready",
        "webhook POST https://crm.example.com/hooks/lealta",
    ]
    assert (later.state.status, later.state.exit_reason) == ("done", "handed to sales")
