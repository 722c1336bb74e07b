"""What still names a tier that an edited programme drops (renamed or removed).

Saved workflows (``loyalty_tier`` conditions of ``if`` steps and goals; triggers on the tier
events whose ``where`` compares ``from``, ``to``, ``tier`` or ``to_tier`` with a tier name) and
on-site placements (audience ``tiers``) name tiers as text. Once the programme no longer has
a tier, those conditions hold for no one and those placements show to no one, silently.

The console's programme editor lists these uses before saving such a programme and saves it
only once the marketer confirms (a rename cannot wait for the workflows: a workflow naming a
tier the programme in force lacks is refused, so they are edited after the programme).
Only tiers the programme in force has and the edited one lacks count: a name that was
already unknown is none of this edit's doing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.loyalty.program import LoyaltyProgram

TIER_EVENTS = {
    "loyalty tier upgraded": ("from", "to"),
    "loyalty tier downgraded": ("from", "to"),
    "loyalty tier at risk": ("tier", "to_tier"),
}


@dataclass(frozen=True)
class TierUse:
    """One use of a dropped tier: the tier as written, and where (in words)."""

    tier: str
    where: str

    def __str__(self) -> str:
        return f"{self.where} names tier {self.tier!r}"


def dropped(before: LoyaltyProgram, after: LoyaltyProgram) -> set[str]:
    """The tiers of ``before`` that ``after`` lacks (case-insensitive), casefolded."""
    kept = {name.casefold() for name in after.tier_names()}
    return {name.casefold() for name in before.tier_names()} - kept


def uses_of_dropped(
    session: Session, before: LoyaltyProgram | None, after: LoyaltyProgram
) -> list[TierUse]:
    """Every use, in saved workflows (their current versions) and on-site placements, of a
    tier that ``before`` (the programme in force) has and ``after`` lacks."""
    if before is None:
        return []
    gone = dropped(before, after)
    if not gone:
        return []
    return [use for use in _uses(session) if use.tier.casefold() in gone]


def _uses(session: Session) -> Iterator[TierUse]:
    from lealta.automations.tables import Workflow, WorkflowVersion
    from lealta.onsite import audience as audiences
    from lealta.onsite.tables import OnsitePlacement

    rows = session.execute(
        select(Workflow.id, WorkflowVersion.definition)
        .join(
            WorkflowVersion,
            (WorkflowVersion.workflow_id == Workflow.id)
            & (WorkflowVersion.version == Workflow.current_version),
        )
        .order_by(Workflow.id)
    ).all()
    for workflow_id, definition in rows:
        yield from _workflow_uses(workflow_id, definition)
    for placement_id, data in session.execute(
        select(OnsitePlacement.id, OnsitePlacement.audience).order_by(OnsitePlacement.id)
    ).all():
        try:
            tiers = audiences.parse(data).tiers
        except Exception:  # a placement that no longer reads is not this check's to judge
            continue
        for tier in tiers:
            yield TierUse(tier, f"on-site placement {placement_id!r} (audience tiers)")


def _workflow_uses(workflow_id: str, definition: Any) -> Iterator[TierUse]:
    from lealta.automations.definition import EventTrigger, IfStep, load_definition
    from lealta.conditions.model import LoyaltyTierCondition, walk

    try:
        rules = load_definition(definition)
    except Exception:  # a stored definition that no longer validates: nothing to read here
        return
    places: list[tuple[str, Any]] = [
        (f"step {step.id!r}", step.condition) for step in rules.steps if isinstance(step, IfStep)
    ]
    if rules.goal is not None:
        places.append(("the goal", rules.goal.condition))
    for where, condition in places:
        for node in walk(condition):
            if isinstance(node, LoyaltyTierCondition):
                for name in node.names():
                    yield TierUse(name, f"workflow {workflow_id!r}, {where}")
    trigger = rules.trigger
    if isinstance(trigger, EventTrigger):
        keys = TIER_EVENTS.get(" ".join(trigger.event.casefold().split()))
        for condition in trigger.where if keys else []:
            if condition.property in (keys or ()):
                for name in _texts(condition.value):
                    yield TierUse(name, f"workflow {workflow_id!r}, trigger ({condition.property})")


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []
