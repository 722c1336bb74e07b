"""What changed between two versions of a workflow, in sentences and as a YAML diff. Pure.

Steps are matched by id: a step only in the newer version was added, one only in the older was
removed, and a step in both is compared field by field ("Wait 'window' changed from 5 days to
3 days"). The trigger, goal, entry rules, name and description are compared as wholes; a new
order of the same steps is said once. The unified diff of both versions' YAML (as stored, every
default written out) follows for those who want every detail.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import yaml

from lealta.automations import wording as words
from lealta.automations.definition import StepBase, WorkflowDefinition, dump

# Durations read in words; conditions and splits through the step's own sentence.
_DURATIONS = {"duration", "timeout"}
_IN_WORDS = {"branches", "condition"}


def changes(older: WorkflowDefinition, newer: WorkflowDefinition) -> list[str]:
    """The changes from ``older`` to ``newer``, one sentence each, in the newer step order."""
    found: list[str] = []
    if older.name != newer.name:
        found.append(f"Renamed from “{older.name}” to “{newer.name}”")
    if older.description != newer.description:
        found.append("Description changed")
    if older.trigger != newer.trigger:
        found.append(
            f"Trigger changed from “{words.trigger(older.trigger)}” to "
            f"“{words.trigger(newer.trigger)}”"
        )
    if older.goal != newer.goal:
        found.append(_goal_change(older, newer))
    if older.entry != newer.entry:
        found.append(_fields_change("Entry rules", older.entry, newer.entry))
    before = {step.id: step for step in older.steps}
    after = {step.id: step for step in newer.steps}
    for step in newer.steps:
        if step.id not in before:
            found.append(f"Step '{step.id}' added: {words.step(step)}")
        elif before[step.id] != step:
            found.extend(_step_changes(before[step.id], step))
    found.extend(
        f"Step '{step.id}' removed (was: {words.step(step)})"
        for step in older.steps
        if step.id not in after
    )
    kept_before = [s.id for s in older.steps if s.id in after]
    kept_after = [s.id for s in newer.steps if s.id in before]
    if kept_before != kept_after:
        found.append("Steps put in a new order")
    return found


def _goal_change(older: WorkflowDefinition, newer: WorkflowDefinition) -> str:
    if older.goal is None:
        return f"Goal added: {words.condition(newer.goal.condition)}" if newer.goal else ""
    if newer.goal is None:
        return f"Goal removed (was: {words.condition(older.goal.condition)})"
    return (
        f"Goal changed from “{words.condition(older.goal.condition)}” to "
        f"“{words.condition(newer.goal.condition)}”"
    )


def _fields_change(what: str, older: Any, newer: Any) -> str:
    was, now = older.model_dump(by_alias=True), newer.model_dump(by_alias=True)
    parts = [
        f"{name} from {words.field_value(was.get(name))} to {words.field_value(now.get(name))}"
        for name in now
        if was.get(name) != now.get(name)
    ]
    return f"{what} changed: " + "; ".join(parts)


def _step_changes(older: StepBase, newer: StepBase) -> list[str]:
    kind_of = str(getattr(newer, "type", ""))
    kind = words.KINDS.get(kind_of, kind_of)
    if type(older) is not type(newer):
        return [f"Step '{newer.id}' changed from “{words.step(older)}” to “{words.step(newer)}”"]
    was: Mapping[str, Any] = {name: getattr(older, name) for name in type(older).model_fields}
    now: Mapping[str, Any] = {name: getattr(newer, name) for name in type(newer).model_fields}
    differing = [name for name in now if name != "id" and was[name] != now[name]]
    if any(name in _IN_WORDS for name in differing):
        return [f"{kind} '{newer.id}' changed from “{words.step(older)}” to “{words.step(newer)}”"]
    found = []
    for name in differing:
        if name == "duration":
            found.append(
                f"{kind} '{newer.id}' changed from {words.duration(was[name])} to "
                f"{words.duration(now[name])}"
            )
        elif name in _DURATIONS:
            found.append(
                f"{kind} '{newer.id}': {_label(name)} changed from {words.duration(was[name])} "
                f"to {words.duration(now[name])}"
            )
        else:
            found.append(
                f"{kind} '{newer.id}': {_label(name)} changed from "
                f"{words.field_value(was[name])} to {words.field_value(now[name])}"
            )
    return found


def _label(name: str) -> str:
    return name.rstrip("_").replace("_", " ")


def as_yaml(rules: WorkflowDefinition) -> str:
    """A version as YAML, keys in the definition's order."""
    text: str = yaml.safe_dump(dump(rules), sort_keys=False, allow_unicode=True, width=100)
    return text


def unified(
    older: WorkflowDefinition, newer: WorkflowDefinition, older_name: str, newer_name: str
) -> str:
    """The unified diff of the two versions' YAML (empty when they are the same)."""
    lines = difflib.unified_diff(
        as_yaml(older).splitlines(keepends=True),
        as_yaml(newer).splitlines(keepends=True),
        fromfile=older_name,
        tofile=newer_name,
    )
    return "".join(lines)
