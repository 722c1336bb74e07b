"""The journey's YAML as the console shows and reads it: the latest version without settings
left at their defaults, and each problem's line in the text the marketer sent. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from lealta.automations.definition import WorkflowDefinition
from lealta.automations.editing import Problem, compact


def to_yaml(definition: WorkflowDefinition) -> str:
    """The definition as YAML, in the order its fields are documented."""
    return yaml.safe_dump(compact(definition), sort_keys=False, allow_unicode=True, width=100)


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for name, value in node.value:
            if isinstance(name, yaml.ScalarNode) and name.value == key:
                matched: yaml.Node = value
                return matched
    if isinstance(node, yaml.SequenceNode) and key.isdigit() and int(key) < len(node.value):
        found: yaml.Node = node.value[int(key)]
        return found
    return None


def _step_node(root: yaml.Node | None, step_id: str) -> yaml.Node | None:
    steps = _child(root, "steps")
    if isinstance(steps, yaml.SequenceNode):
        for item in steps.value:
            name = _child(item, "id")
            if isinstance(name, yaml.ScalarNode) and name.value == step_id:
                step: yaml.Node = item
                return step
    return None


def line_of(text: str, problem: Problem) -> int | None:
    """The line (from 1) of ``text`` that ``problem`` concerns: its setting's line when found,
    else its step's (or part's)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if problem.place in ("trigger", "entry", "goal"):
        node = _child(root, problem.place)
    elif problem.place == "journey":
        node = _child(root, problem.field.split(".")[0]) if problem.field else None
    else:
        node = _step_node(root, problem.place)
    if node is None:
        return None
    for part in (problem.field or "").split("."):
        deeper = _child(node, part) if part else None
        if deeper is None:
            break
        node = deeper
    return node.start_mark.line + 1


def with_lines(text: str, found: list[Problem]) -> list[dict[str, Any]]:
    """Problems with their line, for the YAML page."""
    return [{"problem": p, "line": line_of(text, p)} for p in found]


def as_mapping(data: Any) -> Mapping[str, Any] | None:
    """``data`` when it is a mapping (a definition), else None."""
    return data if isinstance(data, Mapping) else None
