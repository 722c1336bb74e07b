"""Triggers that fire with the passing of time: anniversaries, inactivity and cron schedules.

The worker calls :func:`run_time_triggers` every minute or so. Each trigger finds its people
with one or two queries and enrols them in bulk; the entry key names the occasion (the year of
a birthday, the date of the last purchase, the scheduled minute), so running the sweep again,
from one worker or several, enrols nobody twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.automations.definition import AnniversaryTrigger, InactivityTrigger, ScheduleTrigger
from lealta.automations.durations import parse_clock, parse_cron
from lealta.automations.sweeps import enroll_many
from lealta.automations.triggers import Live, load_live
from lealta.contacts.tables import Contact, ContactList, ContactTag, ListMembership
from lealta.events.names import named
from lealta.events.tables import Event
from lealta.segmentation.tables import ContactRfm


def run_time_triggers(session: Session, *, now: dt.datetime) -> dict[str, int]:
    """Enrol everyone whose anniversary, inactivity or schedule is due.

    Returns the runs started per workflow.
    """
    report: dict[str, int] = {}
    for live in load_live(session):
        trigger: Any = live.rules.trigger
        if isinstance(trigger, AnniversaryTrigger):
            started = _anniversaries(session, live, trigger, now)
        elif isinstance(trigger, InactivityTrigger):
            started = _inactive(session, live, trigger, now)
        elif isinstance(trigger, ScheduleTrigger):
            started = _scheduled(session, live, trigger, now)
        else:
            continue
        if started:
            report[live.workflow.id] = started
    return report


def _zone(name: object, fallback: str) -> ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if isinstance(candidate, str) and candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _anniversaries(
    session: Session, live: Live, trigger: AnniversaryTrigger, now: dt.datetime
) -> int:
    """Contacts whose local date is ``days_before`` their anniversary and whose local time is
    past ``at`` (a birthday greeting at 09:00 wherever they live)."""
    value = Contact.attributes[trigger.attribute].as_string()
    # Local dates differ from UTC by at most a day: narrow by month-day first, in SQL.
    days = [
        (now + dt.timedelta(days=offset + trigger.days_before)).strftime("%m-%d")
        for offset in (-1, 0, 1)
    ]
    rows = session.execute(
        select(Contact.id, value, Contact.attributes["timezone"].as_string()).where(
            Contact.erased_at.is_(None),
            Contact.merged_into.is_(None),
            func.substr(value, 6, 5).in_(days),
        )
    ).all()
    at = parse_clock(trigger.at)
    due: dict[int, list[str]] = {}
    for contact_id, text, zone_name in rows:
        try:
            date = dt.date.fromisoformat(str(text)[:10])
        except ValueError:
            continue
        local = now.astimezone(_zone(zone_name, live.rules.timezone))
        target = local.date() + dt.timedelta(days=trigger.days_before)
        same_day = (date.month, date.day) == (target.month, target.day) or (
            (date.month, date.day) == (2, 29)
            and (target.month, target.day) == (2, 28)
            and not _leap(target.year)
        )
        if same_day and local.time() >= at:
            due.setdefault(target.year, []).append(contact_id)
    return sum(
        enroll_many(
            session,
            live,
            ids,
            entry_key=f"anniversary:{trigger.attribute}:{year}",
            now=now,
        )
        for year, ids in due.items()
    )


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _inactive(session: Session, live: Live, trigger: InactivityTrigger, now: dt.datetime) -> int:
    """Contacts whose last ``event`` (any activity when None) was ``days`` days ago or more.

    The entry key carries the date of that last event: a contact enrols once per quiet spell,
    and again after new activity followed by a new quiet spell.
    """
    cutoff = now - dt.timedelta(days=trigger.days)
    query: Any
    if trigger.event is None:
        last = Contact.last_seen_at
        query = select(Contact.id, last).where(
            Contact.erased_at.is_(None), Contact.merged_into.is_(None), last <= cutoff
        )
    else:
        latest = func.max(Event.occurred_at)
        query = (
            select(Event.contact_id, latest)
            .where(*named([trigger.event]), Event.contact_id.is_not(None))
            .group_by(Event.contact_id)
            .having(latest <= cutoff)
        )
    by_day: dict[str, list[str]] = {}
    for contact_id, moment in session.execute(query):
        if contact_id is None or moment is None:
            continue
        by_day.setdefault(str(moment)[:10], []).append(str(contact_id))
    return sum(
        enroll_many(session, live, ids, entry_key=f"inactivity:{day}", now=now)
        for day, ids in by_day.items()
    )


def _scheduled(session: Session, live: Live, trigger: ScheduleTrigger, now: dt.datetime) -> int:
    """Everyone in the audience, when the cron expression matches this minute (local time)."""
    zone = _zone(live.rules.timezone, "UTC")
    local = now.astimezone(zone).replace(second=0, microsecond=0)
    if not parse_cron(trigger.cron).matches(local):
        return 0
    audience = trigger.audience
    query = select(Contact.id).where(Contact.erased_at.is_(None), Contact.merged_into.is_(None))
    if audience.stage:
        query = query.where(Contact.lifecycle_stage == audience.stage)
    if audience.segment:
        query = query.where(
            Contact.id.in_(
                select(ContactRfm.contact_id).where(ContactRfm.segment == audience.segment)
            )
        )
    if audience.tag:
        query = query.where(
            Contact.id.in_(select(ContactTag.contact_id).where(ContactTag.tag == audience.tag))
        )
    if audience.list:
        members = (
            select(ListMembership.contact_id)
            .join(ContactList, ContactList.id == ListMembership.list_id)
            .where(ContactList.slug == audience.list, ListMembership.status == "subscribed")
        )
        query = query.where(Contact.id.in_(members))
    ids = list(session.scalars(query))
    return enroll_many(
        session, live, ids, entry_key=f"schedule:{local.isoformat(timespec='minutes')}", now=now
    )
