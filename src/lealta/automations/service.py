"""Keeping workflows: saving versions, enabling and pausing, enrolling contacts.

Editing a workflow stores a new version; runs already under way finish on the version they
started with. A run's id derives from (workflow, contact, entry key), so a trigger seen twice
enrols once. A workflow is enabled only when every message template its send steps use is
stored for the step's channel; installing a shipped workflow stores the shipped templates it
uses that are not stored yet. A workflow whose ``loyalty_tier`` conditions name a tier the
loyalty programme in force does not have (or name tiers while no programme is in force) is
refused when saved: such a condition would silently never hold.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.automations.definition import (
    IfStep,
    SendStep,
    WorkflowDefinition,
    dump,
    load_definition,
)
from lealta.automations.tables import Run, Workflow, WorkflowVersion
from lealta.conditions import unknown_tiers
from lealta.contacts.tables import Contact, ContactTag
from lealta.errors import Conflict, InvalidInput, NotFound
from lealta.messages.tables import MessageTemplate
from lealta.segmentation.tables import ContactRfm
from lealta.storage.upsert import insert_ignoring

STATUSES = ("draft", "active", "paused")
LIVE = ("active", "waiting")
# Send steps on these channels carry their own target and are never rendered from a template.
UNRENDERED_CHANNELS = frozenset({"webhook"})


@dataclass(frozen=True)
class Saved:
    """The outcome of saving a definition."""

    workflow_id: str
    version: int
    created: bool
    changed: bool


def save(session: Session, source: str | Mapping[str, Any], *, now: dt.datetime) -> Saved:
    """Store a definition (YAML/JSON text or mapping) as a new workflow or a new version.

    Raises
    ------
    InvalidInput
        When the definition is invalid, or a ``loyalty_tier`` condition names a tier the
        programme in force does not have (see :func:`check_tier_names`).
    """
    definition = load_definition(source)
    check_tier_names(session, definition)
    document = dump(definition)
    workflow = session.get(Workflow, definition.id)
    if workflow is None:
        session.add(
            Workflow(
                id=definition.id,
                name=definition.name,
                status="draft",
                current_version=1,
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()
        session.add(
            WorkflowVersion(
                workflow_id=definition.id, version=1, definition=document, created_at=now
            )
        )
        session.flush()
        return Saved(definition.id, 1, created=True, changed=True)
    current = session.get(WorkflowVersion, (workflow.id, workflow.current_version))
    if current is not None and current.definition == document:
        return Saved(workflow.id, workflow.current_version, created=False, changed=False)
    workflow.current_version += 1
    workflow.name = definition.name
    workflow.updated_at = now
    session.add(
        WorkflowVersion(
            workflow_id=workflow.id,
            version=workflow.current_version,
            definition=document,
            created_at=now,
        )
    )
    session.flush()
    return Saved(workflow.id, workflow.current_version, created=False, changed=True)


def check_tier_names(session: Session, rules: WorkflowDefinition) -> None:
    """Refuse ``loyalty_tier`` conditions (in ``if`` steps and the goal) that name a tier the
    loyalty programme in force does not have, or that name tiers while no programme is in
    force. A bare ``{kind: loyalty_tier}`` (any tier) is always accepted.

    Raises
    ------
    InvalidInput
        Naming the step (``field`` ``steps.<id>.condition`` or ``goal.condition``), the
        unknown tiers and the programme's tiers.
    """
    from lealta.loyalty import service as loyalty

    places = [
        (f"step {step.id!r}", f"steps.{step.id}.condition", step.condition)
        for step in rules.steps
        if isinstance(step, IfStep)
    ]
    if rules.goal is not None:
        places.append(("the goal", "goal.condition", rules.goal.condition))
    stored = loyalty.get(session)
    known = stored.program.tier_names() if stored is not None else []
    for where, field, condition in places:
        unknown = unknown_tiers(condition, known)
        if not unknown:
            continue
        names = ", ".join(repr(name) for name in unknown)
        if stored is None:
            raise InvalidInput(
                f"workflow {rules.id!r}: {where}: a loyalty_tier condition names tiers "
                f"({names}) but no loyalty programme is in force; save a programme first "
                "(PUT /v1/loyalty/program or lealta loyalty import), or use "
                "{kind: loyalty_tier} for any tier",
                field=field,
            )
        raise InvalidInput(
            f"workflow {rules.id!r}: {where}: no loyalty tier {names} in the programme in "
            f"force; its tiers are {', '.join(known)}",
            field=field,
        )


def get(session: Session, workflow_id: str) -> Workflow:
    """The workflow ``workflow_id``."""
    workflow = session.get(Workflow, workflow_id)
    if workflow is None:
        raise NotFound(f"no workflow {workflow_id!r}")
    return workflow


def definition(
    session: Session, workflow_id: str, version: int | None = None
) -> WorkflowDefinition:
    """The definition of a version (the current one by default)."""
    workflow = get(session, workflow_id)
    row = session.get(WorkflowVersion, (workflow_id, version or workflow.current_version))
    if row is None:
        raise NotFound(f"workflow {workflow_id!r} has no version {version}")
    return load_definition(row.definition)


def set_status(session: Session, workflow_id: str, status: str, *, now: dt.datetime) -> Workflow:
    """Enable (``active``), pause (``paused``) or put back to ``draft``.

    Paused workflows enrol nobody and their runs wait where they are until resumed.

    Raises
    ------
    Conflict
        When enabling a workflow whose send steps use message templates that are not stored
        for their channel (named in the message).
    """
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
    workflow = get(session, workflow_id)
    if status == "active":
        missing = missing_templates(session, definition(session, workflow_id))
        if missing:
            raise Conflict(
                f"workflow {workflow_id!r} cannot be enabled: its send steps use message "
                f"templates that are not stored: {', '.join(missing)}; store them first "
                "(lealta templates install for the shipped ones, lealta templates import or "
                "PUT /v1/templates/<id> for your own)"
            )
    workflow.status = status
    workflow.updated_at = now
    return workflow


def templates_used(rules: WorkflowDefinition) -> dict[str, str]:
    """The message templates ``rules``' send steps render, by id, with their channel."""
    return {
        step.template: step.channel
        for step in rules.steps
        if isinstance(step, SendStep) and step.channel not in UNRENDERED_CHANNELS
    }


def missing_templates(session: Session, rules: WorkflowDefinition) -> list[str]:
    """The templates ``rules``' send steps use that are not stored for the step's channel,
    sorted: ``"nurture-offer (email)"``, or ``"promo (email; stored for sms)"``."""
    used = templates_used(rules)
    if not used:
        return []
    query = select(MessageTemplate.id, MessageTemplate.channel).where(
        MessageTemplate.id.in_(sorted(used))
    )
    stored = {row.id: row.channel for row in session.execute(query)}
    missing = []
    for template_id, channel in sorted(used.items()):
        found = stored.get(template_id)
        if found is None:
            missing.append(f"{template_id} ({channel})")
        elif found != channel:
            missing.append(f"{template_id} ({channel}; stored for {found})")
    return missing


@dataclass(frozen=True)
class Installed:
    """The outcome of installing a shipped workflow: the workflow saved, and the shipped
    message templates stored with it (those not stored before)."""

    saved: Saved
    templates: list[str]


def install(session: Session, template_id: str, *, now: dt.datetime) -> Installed:
    """Save shipped workflow ``template_id`` (see :mod:`lealta.automations.catalog`) and store
    the shipped message templates its send steps use that are not stored yet. A stored
    template is never replaced: the user may have edited it.

    Raises
    ------
    NotFound
        When Lealta ships no workflow ``template_id``.
    """
    from lealta.automations import catalog
    from lealta.messages import catalog as messages_catalog
    from lealta.messages import service as messages

    rules = catalog.load_template(template_id)
    saved = save(session, catalog.template_text(template_id), now=now)
    shipped = set(messages_catalog.shipped_ids())
    wanted = [t for t in sorted(templates_used(rules)) if t in shipped]
    stored = messages.install(session, wanted, now=now)
    return Installed(saved, [r.template.id for r in stored if not isinstance(r, str)])


def list_workflows(session: Session) -> list[Workflow]:
    """Every workflow, by id."""
    return list(session.scalars(select(Workflow).order_by(Workflow.id)))


def run_id(workflow_id: str, contact_id: str, entry_key: str) -> str:
    """The id of the run that (workflow, contact, entry key) starts: the same inputs, one run."""
    digest = hashlib.sha256(f"{workflow_id}\x1f{contact_id}\x1f{entry_key}".encode()).hexdigest()
    return digest[:40]


def enroll(
    session: Session,
    workflow: Workflow,
    rules: WorkflowDefinition,
    contact_id: str,
    *,
    entry_key: str,
    now: dt.datetime,
    trigger: Mapping[str, Any] | None = None,
) -> str | None:
    """Start a run for ``contact_id`` unless the entry rules forbid it; returns its id.

    The run starts ``active`` and due now: the runner takes its first steps. Entering twice
    with the same entry key is a no-op; ``max_active``, re-entry and suppression are checked.
    ``trigger`` (the triggering event's ``event``, ``properties`` and ``at``) is kept on the
    run and handed to the messages it sends (templates read ``trigger.properties``).
    """
    if workflow.status != "active" or not may_enter(
        session, workflow.id, rules, contact_id, now=now
    ):
        return None
    new_id = run_id(workflow.id, contact_id, entry_key)
    insert_ignoring(
        session,
        Run.__table__,
        [
            {
                "id": new_id,
                "workflow_id": workflow.id,
                "version": workflow.current_version,
                "contact_id": contact_id,
                "entry_key": entry_key[:200],
                "status": "active",
                "step_id": None,
                "state": {},
                "wake_at": now,
                "entered_at": now,
                "updated_at": now,
                "trigger": dict(trigger) if trigger is not None else None,
            }
        ],
        conflict=("id",),
    )
    return new_id


def may_enter(
    session: Session,
    workflow_id: str,
    rules: WorkflowDefinition,
    contact_id: str,
    *,
    now: dt.datetime,
) -> bool:
    """Whether the entry rules let ``contact_id`` start a new run now."""
    entry = rules.entry
    contact = session.get(Contact, contact_id)
    if contact is None or contact.erased_at is not None or contact.merged_into is not None:
        return False
    runs = session.execute(
        select(Run.status, Run.ended_at).where(
            Run.workflow_id == workflow_id, Run.contact_id == contact_id
        )
    ).all()
    active = sum(1 for status, _ in runs if status in LIVE)
    if active >= entry.max_active:
        return False
    if runs and entry.reenter == "never":
        return False
    if runs and entry.reenter_after_days is not None:
        ends = [_aware(ended) for _, ended in runs if ended is not None]
        if ends and now - max(ends) < dt.timedelta(days=entry.reenter_after_days):
            return False
    if entry.suppress_tags:
        tagged = session.scalar(
            select(func.count())
            .select_from(ContactTag)
            .where(ContactTag.contact_id == contact_id, ContactTag.tag.in_(entry.suppress_tags))
        )
        if tagged:
            return False
    if entry.suppress_segments:
        segment = session.scalar(
            select(ContactRfm.segment).where(ContactRfm.contact_id == contact_id)
        )
        if segment in entry.suppress_segments:
            return False
    return True


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
