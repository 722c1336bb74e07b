"""Advancing due runs: claim a batch, build what the engine sees, step, apply the commands.

A batch of due runs is claimed (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers
share the load), the contacts they concern are loaded in a fixed number of queries, the pure
engine decides, and its commands are applied in the same transaction: an outbox row for a
send, tags, lists, attributes, stages, vouchers, other workflows. Every command carries an
idempotency key derived from (run, step, visit), so a batch replayed after a crash repeats no
side effect: outbox rows and vouchers are unique on their key.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from lealta.automations import engine, service
from lealta.automations.conditions import ContactView, EventView
from lealta.automations.definition import WorkflowDefinition
from lealta.automations.tables import Run, RunStep, Workflow
from lealta.bootstrap import Services
from lealta.channels.outbox import enqueue
from lealta.contacts.attributes import coerce_all
from lealta.contacts.tables import Consent, Contact, ContactList, ContactTag, ListMembership
from lealta.events.tables import Event
from lealta.lifecycle import service as lifecycle
from lealta.lifecycle.engine import Transition
from lealta.rulesets.service import lifecycle_model, scoring_model
from lealta.scoring import service as scoring
from lealta.scoring.rules import ScoringEvent
from lealta.segmentation.tables import ContactRfm
from lealta.storage.retry import in_transaction
from lealta.storage.upsert import insert_ignoring
from lealta.vouchers.service import issue

log = logging.getLogger(__name__)
BATCH = 500
HISTORY_DAYS = 400
TERMINAL = ("done", "goal", "exited")


def advance_due(services: Services, *, limit: int = BATCH) -> int:
    """Advance up to ``limit`` due runs; returns how many were taken."""
    return in_transaction(services.uow, lambda session: _advance(services, session, limit))


def advance_all(services: Services) -> int:
    """Advance due runs until none is due now; returns how many steps of runs were taken."""
    total = 0
    while taken := advance_due(services):
        total += taken
    return total


def _advance(services: Services, session: Session, limit: int) -> int:
    now = services.clock.now()
    runs = list(
        session.scalars(
            select(Run)
            .join(Workflow, Workflow.id == Run.workflow_id)
            .where(
                Run.status.in_(("active", "waiting")),
                Run.wake_at <= now,
                Workflow.status == "active",
            )
            .order_by(Run.wake_at, Run.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Run)
        )
    )
    if not runs:
        return 0
    views = contact_views(session, [run.contact_id for run in runs], now=now)
    definitions: dict[tuple[str, int], WorkflowDefinition] = {}
    for run in runs:
        key = (run.workflow_id, run.version)
        if key not in definitions:
            definitions[key] = service.definition(session, run.workflow_id, run.version)
        _step(services, session, run, definitions[key], views.get(run.contact_id), now)
    return len(runs)


def _step(
    services: Services,
    session: Session,
    run: Run,
    rules: WorkflowDefinition,
    view: ContactView | None,
    now: dt.datetime,
) -> None:
    if view is None:  # erased, merged or gone
        state = engine.RunState.from_dict(run.state) if run.state else None
        _finish(run, "exited", "contact gone", now, state)
        return
    if run.state:
        state = engine.RunState.from_dict(run.state)
        reason = _exit_reason(rules, view, state.entered_at)
        outcome = (
            engine.Outcome(engine.exit_run(state, reason, now), [], [])
            if reason
            else engine.advance(rules, state, contact=view, now=now)
        )
    else:
        outcome = engine.start(
            rules, run_id=run.id, contact=view, now=now, entered_at=_aware(run.entered_at)
        )
    saved = _apply(services, session, run, outcome.commands, now)
    new_state = outcome.state
    if saved:
        new_state = engine.RunState.from_dict(
            {**new_state.to_dict(), "data": {**new_state.data, **saved}}
        )
    for entry in outcome.log:
        session.add(
            RunStep(
                run_id=run.id,
                workflow_id=run.workflow_id,
                step_id=entry.step_id,
                outcome=entry.outcome,
                detail=dict(entry.detail),
                at=now,
            )
        )
    run.state = new_state.to_dict()
    run.step_id = new_state.step_id
    run.status = new_state.status
    run.updated_at = now
    if new_state.status in TERMINAL:
        _finish(run, new_state.status, new_state.exit_reason, now, new_state)
    else:
        run.wake_at = new_state.wake_at


def _finish(
    run: Run, status: str, reason: str | None, now: dt.datetime, state: engine.RunState | None
) -> None:
    run.status = status
    run.exit_reason = reason
    run.ended_at = now
    run.wake_at = None
    if state is not None:
        run.state = state.to_dict()


def _exit_reason(rules: WorkflowDefinition, view: ContactView, entered: dt.datetime) -> str | None:
    if "unsubscribed" in rules.exit_on and view.consent.get("email") == "denied":
        return "unsubscribed"
    return None


def _apply(
    services: Services,
    session: Session,
    run: Run,
    commands: Sequence[Any],
    now: dt.datetime,
) -> dict[str, Any]:
    """Carry out the engine's commands; returns values to keep in the run's data (vouchers)."""
    saved: dict[str, Any] = {}
    contact = session.get(Contact, run.contact_id)
    if contact is None:
        return saved
    for command in commands:
        if isinstance(command, engine.Send):
            enqueue(
                session,
                key=command.key,
                contact_id=contact.id,
                channel=command.channel,
                template=command.template,
                payload={**command.data, "workflow": run.workflow_id, "step": command.step_id},
                run_id=run.id,
                not_before=now,
                now=now,
            )
        elif isinstance(command, engine.CallWebhook):
            enqueue(
                session,
                key=command.key,
                contact_id=contact.id,
                channel="webhook",
                template=command.url,
                payload={"method": command.method, "body": command.body},
                run_id=run.id,
                not_before=now,
                now=now,
            )
        elif isinstance(command, engine.AddTags):
            insert_ignoring(
                session,
                ContactTag.__table__,
                [{"contact_id": contact.id, "tag": t, "created_at": now} for t in command.tags],
                conflict=("contact_id", "tag"),
            )
        elif isinstance(command, engine.RemoveTags):
            session.execute(
                delete(ContactTag).where(
                    ContactTag.contact_id == contact.id, ContactTag.tag.in_(command.tags)
                )
            )
        elif isinstance(command, engine.JoinLists | engine.LeaveLists):
            status = "subscribed" if isinstance(command, engine.JoinLists) else "unsubscribed"
            for slug in command.lists:
                _membership(session, contact.id, slug, status, run.workflow_id, now)
        elif isinstance(command, engine.SetAttribute):
            good, _problems = coerce_all({command.name: command.value}, {}, strict=False)
            contact.attributes = {**contact.attributes, **good}
        elif isinstance(command, engine.SetStage):
            model = lifecycle_model(session)
            if model.has_stage(command.stage) and contact.lifecycle_stage != command.stage:
                lifecycle.move(
                    session,
                    contact,
                    Transition(
                        to=command.stage,
                        from_=contact.lifecycle_stage or model.initial,
                        rule_id=f"workflow:{run.workflow_id}",
                    ),
                    cause=command.key,
                    at=now,
                )
        elif isinstance(command, engine.AddScore):
            _adjust_score(session, contact, command.key, command.points, run.workflow_id, now)
        elif isinstance(command, engine.IssueVoucher):
            voucher = issue(
                session,
                key=command.key,
                contact_id=contact.id,
                kind=command.kind,
                value=command.value,
                currency=command.currency,
                valid_days=command.valid_days,
                now=now,
                source=f"workflow:{run.workflow_id}",
            )
            saved[command.save_as] = voucher.code
        elif isinstance(command, engine.StartWorkflow):
            other = session.get(Workflow, command.workflow)
            if other is not None:
                service.enroll(
                    session,
                    other,
                    service.definition(session, other.id),
                    contact.id,
                    entry_key=f"workflow:{command.key}",
                    now=now,
                )
    return saved


def _membership(
    session: Session, contact_id: str, slug: str, status: str, workflow: str, now: dt.datetime
) -> None:
    listed = session.scalar(select(ContactList).where(ContactList.slug == slug))
    if listed is None:
        listed = ContactList(slug=slug, name=slug, created_at=now)
        session.add(listed)
        session.flush()
    membership = session.get(ListMembership, (listed.id, contact_id))
    if membership is None:
        session.add(
            ListMembership(
                list_id=listed.id,
                contact_id=contact_id,
                status=status,
                source=f"workflow:{workflow}",
                created_at=now,
                updated_at=now,
            )
        )
    else:
        membership.status = status
        membership.updated_at = now


def _adjust_score(
    session: Session, contact: Contact, key: str, points: float, workflow: str, now: dt.datetime
) -> None:
    """A score change by a workflow is an event (``Score Adjusted``), scored like any other, so
    a recomputation from the history gives the same score."""
    properties = {"points": points, "workflow": workflow}
    message_id = f"adjust:{key}"[:128]
    if session.scalar(select(Event.id).where(Event.message_id == message_id)) is not None:
        return
    session.add(
        Event(
            message_id=message_id,
            contact_id=contact.id,
            type="track",
            name=scoring.ADJUSTED,
            properties=properties,
            context={"source": "lealta", "workflow": workflow},
            occurred_at=now,
            received_at=now,
        )
    )
    session.flush()
    scoring.on_event(
        session,
        contact,
        ScoringEvent(message_id, now, "track", scoring.ADJUSTED, properties),
        scoring_model(session),
    )


def contact_views(
    session: Session, contact_ids: Sequence[str], *, now: dt.datetime
) -> dict[str, ContactView]:
    """What the engine sees of each live contact, in a fixed number of queries."""
    ids = sorted(set(contact_ids))
    contacts = {
        c.id: c
        for c in session.scalars(
            select(Contact).where(
                Contact.id.in_(ids), Contact.erased_at.is_(None), Contact.merged_into.is_(None)
            )
        )
    }
    tags: dict[str, set[str]] = defaultdict(set)
    for contact_id, tag in session.execute(
        select(ContactTag.contact_id, ContactTag.tag).where(ContactTag.contact_id.in_(ids))
    ):
        tags[contact_id].add(tag)
    lists: dict[str, dict[str, str]] = defaultdict(dict)
    for contact_id, slug, status in session.execute(
        select(ListMembership.contact_id, ContactList.slug, ListMembership.status)
        .join(ContactList, ContactList.id == ListMembership.list_id)
        .where(ListMembership.contact_id.in_(ids))
    ):
        lists[contact_id][slug] = status
    consent: dict[str, dict[str, str]] = defaultdict(dict)
    for contact_id, channel, status in session.execute(
        select(Consent.contact_id, Consent.channel, Consent.status)
        .where(Consent.contact_id.in_(ids))
        .order_by(Consent.id)
    ):
        consent[contact_id][channel] = status
    rfm = {
        row.contact_id: row
        for row in session.scalars(select(ContactRfm).where(ContactRfm.contact_id.in_(ids)))
    }
    events: dict[str, list[EventView]] = defaultdict(list)
    since = now - dt.timedelta(days=HISTORY_DAYS)
    for contact_id, name, kind, at, properties in session.execute(
        select(Event.contact_id, Event.name, Event.type, Event.occurred_at, Event.properties)
        .where(Event.contact_id.in_(ids), or_(Event.occurred_at >= since))
        .order_by(Event.occurred_at, Event.id)
    ):
        events[contact_id].append(EventView(name, kind, _aware(at), properties or {}))
    views: dict[str, ContactView] = {}
    model = scoring_model(session)
    for contact_id, contact in contacts.items():
        found = rfm.get(contact_id)
        views[contact_id] = ContactView(
            id=contact_id,
            attributes=dict(contact.attributes),
            tags=frozenset(tags[contact_id]),
            lists=dict(lists[contact_id]),
            stage=contact.lifecycle_stage,
            score=scoring.current_score(model, contact, now),
            segment=found.segment if found else None,
            cluster=found.cluster_name if found else None,
            consent=dict(consent[contact_id]),
            timezone=contact.attributes.get("timezone") or None,
            events=tuple(events[contact_id]),
        )
    return views


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
