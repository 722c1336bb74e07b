"""Dry runs: how many people of an audience would take each step and branch (nothing written)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.automations import engine
from lealta.automations.definition import WorkflowDefinition
from lealta.automations.needs import event_names
from lealta.automations.runner import contact_views
from lealta.contacts.tables import Contact, ContactTag
from lealta.segmentation.tables import ContactRfm

CHUNK = 500
# Nobody does anything new in a dry run: between wake times only conditions over a window of
# days ("no order in the last 30 days") can change, so runs are looked at every six hours
# rather than every hour (four times less work over hundreds of people, the same counts).
LOOK_EVERY_HOURS = 6.0


def audience(
    session: Session,
    *,
    segment: str | None = None,
    tag: str | None = None,
    limit: int | None = None,
) -> list[str]:
    """Ids of the live contacts in an RFM segment and/or carrying a tag (everyone if neither)."""
    query = select(Contact.id).where(Contact.erased_at.is_(None), Contact.merged_into.is_(None))
    if segment:
        members = select(ContactRfm.contact_id).where(ContactRfm.segment == segment)
        query = query.where(Contact.id.in_(members))
    if tag:
        query = query.where(
            Contact.id.in_(select(ContactTag.contact_id).where(ContactTag.tag == tag))
        )
    query = query.order_by(Contact.id)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def dry_run(
    session: Session,
    definition: WorkflowDefinition,
    contact_ids: list[str],
    *,
    now: dt.datetime,
    days: float = 30.0,
) -> dict[str, Any]:
    """Simulate ``days`` for each contact as they are now; count step outcomes and endings.

    The future holds no new events (people do nothing new), so the figures say where today's
    profiles lead: which branch of each ``if``, which arm of each split, how many reach a send.
    """
    outcomes: dict[str, Counter[str]] = {}
    commands: Counter[str] = Counter()
    names = event_names(definition)  # of a long history, only what the workflow can test
    for start in range(0, len(contact_ids), CHUNK):
        views = contact_views(
            session, contact_ids[start : start + CHUNK], now=now, event_names=names
        )
        for view in views.values():
            simulated = engine.simulate(
                definition, view, start=now, days=days, step_hours=LOOK_EVERY_HOURS
            )
            for _moment, item in simulated:
                if isinstance(item, engine.StepLog):
                    outcomes.setdefault(item.step_id, Counter())[item.outcome.split(" ")[0]] += 1
                else:
                    commands[f"{item.step_id}:{type(item).__name__}"] += 1
    return {
        "contacts": len(contact_ids),
        "days": days,
        "steps": {step: dict(counts) for step, counts in outcomes.items()},
        "commands": dict(commands),
    }
