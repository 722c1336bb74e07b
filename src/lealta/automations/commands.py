"""Carrying out the engine's commands for a run, in the runner's transaction.

Every command carries its idempotency key: outbox rows and vouchers are unique on it, a score
adjustment is an event whose message id derives from it, tags and list memberships are set
rather than added, so a batch replayed after a crash repeats no side effect.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lealta.automations import engine, service
from lealta.automations.tables import Workflow
from lealta.contacts.attributes import coerce_all
from lealta.contacts.tables import Contact, ContactList, ContactTag, ListMembership
from lealta.errors import InvalidInput
from lealta.events.tables import Event
from lealta.lifecycle import service as lifecycle
from lealta.lifecycle.engine import Transition
from lealta.rulesets.service import lifecycle_model, scoring_model
from lealta.scoring import service as scoring
from lealta.scoring.rules import ScoringEvent
from lealta.storage.upsert import insert_ignoring
from lealta.vouchers.service import issue


class Run(Protocol):
    """What commands need of a run."""

    @property
    def id(self) -> str: ...
    @property
    def workflow_id(self) -> str: ...
    @property
    def contact_id(self) -> str: ...
    @property
    def state(self) -> dict[str, Any]: ...
    @property
    def trigger(self) -> dict[str, Any] | None: ...


def apply(
    session: Session,
    outbox: list[dict[str, Any]],
    run: Run,
    commands: Sequence[Any],
    now: dt.datetime,
) -> dict[str, Any]:
    """Carry out the engine's commands for ``run``; returns values to keep in the run's data
    (voucher codes).

    Messages (sends, webhook calls) are appended to ``outbox`` as rows for the batch's one
    insert; everything else is written now, in the caller's transaction. A message's payload
    holds the step's ``data``, the ``workflow`` and ``step``, what triggered the run
    (``trigger``: event, properties, at) and the values the run saved so far (``saved``:
    voucher codes under their ``save_as`` names), for its template.
    """
    saved: dict[str, Any] = {}
    contact_id: str = run.contact_id
    kept = {k: v for k, v in (run.state.get("data") or {}).items() if k not in ENGINE_DATA}
    for command in commands:
        if isinstance(command, engine.Send):
            payload = {
                **command.data,
                "workflow": run.workflow_id,
                "step": command.step_id,
                "saved": {**kept, **saved},
            }
            if run.trigger:
                payload["trigger"] = run.trigger
            outbox.append(
                _message(command.key, contact_id, command.channel, command.template, payload, run)
            )
        elif isinstance(command, engine.CallWebhook):
            payload = {"method": command.method, "body": command.body}
            outbox.append(_message(command.key, contact_id, "webhook", command.url, payload, run))
        elif isinstance(command, engine.AddTags):
            insert_ignoring(
                session,
                ContactTag.__table__,
                [{"contact_id": contact_id, "tag": t, "created_at": now} for t in command.tags],
                conflict=("contact_id", "tag"),
            )
        elif isinstance(command, engine.RemoveTags):
            session.execute(
                delete(ContactTag).where(
                    ContactTag.contact_id == contact_id, ContactTag.tag.in_(command.tags)
                )
            )
        elif isinstance(command, engine.JoinLists | engine.LeaveLists):
            status = "subscribed" if isinstance(command, engine.JoinLists) else "unsubscribed"
            for slug in command.lists:
                _membership(session, contact_id, slug, status, run.workflow_id, now)
        elif isinstance(command, engine.IssueVoucher):
            voucher = issue(
                session,
                key=command.key,
                contact_id=contact_id,
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
                    contact_id,
                    entry_key=f"workflow:{command.key}",
                    now=now,
                )
        else:
            _change_contact(session, run, command, now)
    return saved


# What the engine itself keeps in a run's data (the rest is what steps saved).
ENGINE_DATA = frozenset({"splits", "wait_started", "goal_reached", "ended_at"})


def _message(
    key: str,
    contact_id: str,
    channel: str,
    template: str,
    payload: Mapping[str, Any],
    run: Run,
) -> dict[str, Any]:
    """An outbox row, checked as :func:`lealta.channels.outbox.enqueue` checks it."""
    for value, longest, name in (
        (key, 200, "key"),
        (channel, 32, "channel"),
        (template, 200, "template"),
    ):
        if not value or len(value) > longest:
            raise InvalidInput(f"{name} must be 1 to {longest} characters", field=name)
    return {
        "idempotency_key": key,
        "contact_id": contact_id,
        "run_id": run.id,
        "channel": channel,
        "template": template,
        "payload": dict(payload),
    }


def _change_contact(session: Session, run: Run, command: Any, now: dt.datetime) -> None:
    """Commands that change the contact's row: attribute, stage, score."""
    contact = session.get(Contact, run.contact_id)
    if contact is None:
        return
    if isinstance(command, engine.SetAttribute):
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
