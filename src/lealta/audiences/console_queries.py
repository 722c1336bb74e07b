"""What the console's Audiences pages read beyond the service: every audience's stored sizes
over a period in one query (the list's sparklines, never a count of members), the audiences
one person is in with their ids (the profile's links), a contact found by id or e-mail (the
"why in or out" picker), and where an audience is used (workflows, ad syncs, other
audiences, on-site placements)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.audiences.membership import ENTERED, EXITED
from lealta.audiences.tables import Audience, AudienceMember, AudienceSize
from lealta.conditions import audiences_named
from lealta.contacts.tables import Contact


@dataclass(frozen=True)
class Use:
    """One place an audience is used: what it is, in words, and its console page."""

    kind: str
    words: str
    href: str


def sizes_since(session: Session, since: dt.date) -> dict[int, list[tuple[dt.date, int]]]:
    """Every audience's stored daily sizes from ``since`` on, oldest first, by audience id."""
    rows = session.execute(
        select(AudienceSize.audience_id, AudienceSize.day, AudienceSize.size)
        .where(AudienceSize.day >= since)
        .order_by(AudienceSize.audience_id, AudienceSize.day)
    )
    found: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for audience_id, day, size in rows:
        found[int(audience_id)].append((day, int(size)))
    return dict(found)


def audiences_of(session: Session, contact_id: str) -> list[tuple[int, str, dt.datetime]]:
    """The audiences ``contact_id`` is in (as of their latest refresh): id, name and since
    when, by name."""
    rows = session.execute(
        select(Audience.id, Audience.name, AudienceMember.since)
        .join(AudienceMember, AudienceMember.audience_id == Audience.id)
        .where(AudienceMember.contact_id == contact_id)
        .order_by(Audience.name)
    )
    return [(int(i), str(name), since) for i, name, since in rows]


def contact_by_id_or_email(session: Session, typed: str) -> str | None:
    """The id of the contact ``typed`` names: a contact id, else an e-mail address (followed
    to the profile it was merged into); None when neither finds one."""
    from lealta.identity.service import find_contact

    typed = typed.strip()
    if not typed:
        return None
    if session.get(Contact, typed) is not None:
        return typed
    if "@" in typed:
        found = find_contact(session, "email", typed)
        return found.id if found is not None else None
    return None


def uses(session: Session, name: str) -> list[Use]:
    """Where audience ``name`` is used: workflows it triggers (an ``Audience Entered`` /
    ``Exited`` trigger naming it) or that test it in a condition, ad syncs of it, other
    audiences that refer to it and on-site placements whose condition names it."""
    found = list(_workflow_uses(session, name))
    found += list(_ad_syncs(session, name))
    others = session.execute(select(Audience.id, Audience.name, Audience.condition)).all()
    for other_id, other_name, condition in others:
        if other_name != name and name in _named(condition):
            found.append(Use("audience", f"audience “{other_name}”", f"/audiences/{other_id}"))
    found += list(_placements(session, name))
    return found


def _named(stored: Any) -> list[str]:
    from lealta.conditions import parse

    try:
        return audiences_named(parse(stored))
    except Exception:  # a stored condition that no longer reads names nothing here
        return []


def _workflow_uses(session: Session, name: str) -> Iterator[Use]:
    from lealta.automations.definition import EventTrigger, IfStep, load_definition
    from lealta.automations.tables import Workflow, WorkflowVersion

    rows = session.execute(
        select(Workflow.id, Workflow.name, WorkflowVersion.definition)
        .join(
            WorkflowVersion,
            (WorkflowVersion.workflow_id == Workflow.id)
            & (WorkflowVersion.version == Workflow.current_version),
        )
        .order_by(Workflow.id)
    ).all()
    for workflow_id, workflow_name, definition in rows:
        try:
            rules = load_definition(definition)
        except Exception:  # a stored definition that no longer validates: nothing to read
            continue
        href = f"/journeys/{workflow_id}"
        trigger = rules.trigger
        if isinstance(trigger, EventTrigger) and _starts(trigger, name):
            yield Use("trigger", f"starts journey “{workflow_name}” ({trigger.event})", href)
            continue
        conditions = [step.condition for step in rules.steps if isinstance(step, IfStep)]
        if rules.goal is not None:
            conditions.append(rules.goal.condition)
        if any(name in audiences_named(condition) for condition in conditions):
            yield Use("condition", f"tested in journey “{workflow_name}”", href)


def _starts(trigger: Any, name: str) -> bool:
    """Whether an event trigger is ``Audience Entered``/``Exited`` of audience ``name``."""
    return trigger.event in (ENTERED, EXITED) and any(
        test.property == "audience" and _mentions(test.value, name) for test in trigger.where
    )


def _mentions(value: Any, name: str) -> bool:
    return value == name or (isinstance(value, list) and name in value)


def _ad_syncs(session: Session, name: str) -> Iterator[Use]:
    from lealta.retargeting.tables import AdSync

    rows = session.execute(
        select(AdSync.id, AdSync.url, AdSync.format)
        .join(Audience, Audience.id == AdSync.audience_id)
        .where(Audience.name == name)
        .order_by(AdSync.id)
    )
    for sync_id, url, format_ in rows:
        yield Use("ads", f"ad sync {sync_id} ({format_}) to {url}", "")


def _placements(session: Session, name: str) -> Iterator[Use]:
    from lealta.onsite import audience as onsite
    from lealta.onsite.tables import OnsitePlacement

    rows = session.execute(select(OnsitePlacement.id, OnsitePlacement.audience)).all()
    for placement_id, data in rows:
        try:
            condition = onsite.parse(data).condition
        except Exception:  # a placement that no longer reads is not this page's to judge
            continue
        if condition is not None and name in audiences_named(condition):
            yield Use("onsite", f"on-site placement “{placement_id}”", "")
