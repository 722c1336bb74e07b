"""A/B split results: per split step of a workflow, what became of the people on each branch.

A ``split`` step sends each run down one branch at random and logs it in the step log
(``workflow_run_steps.outcome = "split:NAME"``). For the splits made in ``[since, until)``,
per branch:

* ``people``: runs sent down the branch (a run passing the split twice counts once per branch);
* ``opened`` / ``clicked``: of them, runs with at least one open / click of a message **sent
  after** the split (so the e-mails before it, alike for every branch, do not blur the
  difference);
* ``goal``: runs that reached the workflow's goal; ``revenue``: orders credited to the
  messages sent after the split.

Each branch after the first is compared with the first (the control) by the two-proportion
z-test (:mod:`lealta.feedback.significance`) on the click rate and on the goal rate, both out
of ``people``. Two grouped queries, whatever the number of runs.

``contacts`` (a select of contact ids, such as an audience's members,
:func:`lealta.audiences.members.member_ids`) keeps the runs of those people only: the results
are then those of a store holding only them, as for the message reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from lealta.automations.tables import Run, RunStep, Workflow
from lealta.channels.tables import MessageInteraction, OutboxMessage
from lealta.feedback.reports import CENT, Contacts
from lealta.feedback.significance import Arm, Comparison, compare

PREFIX = "split:"


@dataclass
class Branch:
    """One branch's people and what they did (see the module docstring)."""

    name: str
    people: int = 0
    opened: int = 0
    clicked: int = 0
    goal: int = 0
    revenue: Decimal = field(default_factory=lambda: Decimal("0.00"))

    def arm(self, measure: str) -> Arm:
        """This branch as an arm of a test of ``measure`` (``clicked`` or ``goal``)."""
        return Arm(self.name, self.people, int(getattr(self, measure)))


@dataclass
class Split:
    """One split step of a workflow and its branches, the control (first by name) first."""

    workflow: str
    workflow_name: str
    step: str
    branches: list[Branch]

    def comparisons(self, measure: str) -> list[Comparison]:
        """Each other branch tested against the control on ``measure``."""
        control, *others = self.branches
        return [compare(control.arm(measure), other.arm(measure)) for other in others]


def split_results(
    session: Session, *, since: dt.datetime, until: dt.datetime, contacts: Contacts = None
) -> list[Split]:
    """The splits made in ``[since, until)`` (of ``contacts``' runs only, when given), by
    workflow and step."""
    choice = (
        select(RunStep.run_id, RunStep.workflow_id, RunStep.step_id, RunStep.outcome, RunStep.at)
        .where(RunStep.outcome.like(f"{PREFIX}%"), RunStep.at >= since, RunStep.at < until)
        .where(*of_contacts(contacts))
        .subquery("choice")
    )
    keys = (choice.c.workflow_id, choice.c.step_id, choice.c.outcome)
    splits: dict[tuple[str, str], Split] = {}
    branches: dict[tuple[str, str, str], Branch] = {}

    def branch(workflow: str, step: str, outcome: str) -> Branch:
        if (workflow, step) not in splits:
            splits[workflow, step] = Split(workflow, workflow, step, [])
        if (workflow, step, outcome) not in branches:
            found = Branch(outcome.removeprefix(PREFIX))
            branches[workflow, step, outcome] = found
            splits[workflow, step].branches.append(found)
        return branches[workflow, step, outcome]

    reached = case((Run.status == "goal", choice.c.run_id))
    people = (
        select(*keys, func.count(choice.c.run_id.distinct()), func.count(reached.distinct()))
        .join(Run, Run.id == choice.c.run_id)
        .group_by(*keys)
    )
    for workflow, step, outcome, count, goal in session.execute(people):
        found = branch(workflow, step, outcome)
        found.people, found.goal = int(count), int(goal)
    after = (
        select(
            *keys,
            MessageInteraction.kind,
            func.count(choice.c.run_id.distinct()),
            func.sum(MessageInteraction.revenue),
        )
        .join(
            OutboxMessage,
            (OutboxMessage.run_id == choice.c.run_id) & (OutboxMessage.created_at >= choice.c.at),
        )
        .join(MessageInteraction, MessageInteraction.outbox_id == OutboxMessage.id)
        .where(
            OutboxMessage.status == "sent",
            MessageInteraction.kind.in_(("opened", "clicked", "converted")),
        )
        .group_by(*keys, MessageInteraction.kind)
    )
    for workflow, step, outcome, kind, runs, revenue in session.execute(after):
        found = branch(workflow, step, outcome)
        if kind == "converted":
            found.revenue = Decimal(str(revenue or 0)).quantize(CENT)
        else:
            setattr(found, kind, int(runs))
    _name(session, splits)
    for split in splits.values():
        split.branches.sort(key=lambda b: b.name)
    return sorted(splits.values(), key=lambda s: (s.workflow_name, s.step))


def of_contacts(contacts: Contacts) -> list[Any]:
    """The condition keeping the split choices of ``contacts``' runs (none for everyone)."""
    if contacts is None:
        return []
    return [RunStep.run_id.in_(select(Run.id).where(Run.contact_id.in_(contacts)))]


def _name(session: Session, splits: dict[tuple[str, str], Split]) -> None:
    ids = {workflow for workflow, _ in splits}
    if not ids:
        return
    query = select(Workflow.id, Workflow.name).where(Workflow.id.in_(ids))
    names = {str(row[0]): str(row[1]) for row in session.execute(query)}
    for split in splits.values():
        split.workflow_name = str(names.get(split.workflow) or split.workflow)
