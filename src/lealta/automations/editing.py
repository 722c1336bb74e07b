"""Editing a workflow definition without YAML: operations that give a new definition, and the
definition's validation errors placed on the step they concern. Pure.

Operations take the definition as data (what :func:`~lealta.automations.definition.dump` gives,
or a draft being edited that may not be valid yet) and return new data; nothing is changed in
place. The caller validates the result with :func:`problems` before saving it as a version.
Each operation keeps where runs go: inserting after a step puts the new step between it and
where it went; deleting a step sends whatever led to it on to where it went. When that cannot
be said in a definition (a branch must lead to a step, a journey must start somewhere) the
operation is refused with :class:`EditRefused`, whose message says why.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from lealta import problem_words as say
from lealta.automations.definition import SLUG_PATTERN, Step, WorkflowDefinition
from lealta.errors import InvalidInput

Document = dict[str, Any]
# The steps that name where each outcome goes (no ``next``), with their outcomes' fields.
_ARMS = {"if": ("then", "else"), "wait_for_event": ("on_event", "on_timeout")}
BRANCHING = frozenset({"if", "split", "wait_for_event"})
INSERTABLE = ("wait", "send", "voucher", "tag", "if", "split", "wait_for_event", "exit")
ARM_WORDS = {
    "then": "Yes branch",
    "else": "No branch",
    "on_event": "branch taken when the event happens",
    "on_timeout": "branch taken when the wait times out",
}
_STEP = TypeAdapter(Step)


class EditRefused(InvalidInput):
    """An edit that would make the journey invalid or change where runs go; says why."""


# -- reading the steps ---------------------------------------------------------------------


def _copy(document: Mapping[str, Any]) -> Document:
    return copy.deepcopy(dict(document))


def _steps(document: Document) -> list[dict[str, Any]]:
    steps = document.get("steps")
    if not isinstance(steps, list) or not all(isinstance(step, dict) for step in steps):
        raise EditRefused("the journey's steps are not a list of steps", field="steps")
    return steps


def position(document: Mapping[str, Any], step_id: str) -> int:
    """The index of step ``step_id`` in the list of steps.

    Raises
    ------
    EditRefused
        When there is no such step.
    """
    for index, step in enumerate(_steps(dict(document))):
        if step.get("id") == step_id:
            return index
    raise EditRefused(f"the journey has no step {step_id!r}", field="step")


def is_linear(step: Mapping[str, Any]) -> bool:
    """Whether the step goes on to ``next`` (or the following step) rather than naming arms."""
    return step.get("type") not in BRANCHING and step.get("type") != "exit"


def arms(step: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """A branching step's outcomes: ``(label, target)``; labels are the field (``then``,
    ``else``, ``on_event``, ``on_timeout``) or ``branch:NAME`` for a split's branch."""
    kind = step.get("type")
    if kind == "split":
        branches = step.get("branches") or []
        return [(f"branch:{b.get('name')}", b.get("next")) for b in branches if isinstance(b, dict)]
    return [(label, step.get(label)) for label in _ARMS.get(str(kind), ())]


def _set_arm(step: dict[str, Any], label: str, target: str) -> None:
    if label.startswith("branch:"):
        name = label.removeprefix("branch:")
        for branch in step.get("branches") or []:
            if branch.get("name") == name:
                branch["next"] = target
        return
    step[label] = target


def following(document: Mapping[str, Any], index: int) -> str | None:
    """Where a linear step at ``index`` goes: its ``next``, else the following step (None: the
    run ends)."""
    steps = _steps(dict(document))
    explicit = steps[index].get("next")
    if explicit:
        return str(explicit)
    return str(steps[index + 1]["id"]) if index + 1 < len(steps) else None


def new_step_id(document: Mapping[str, Any], kind: str) -> str:
    """An unused step id for a new step of ``kind`` (``wait-2``, ``send-1`` …)."""
    used = {step.get("id") for step in _steps(dict(document))}
    stem = kind.replace("_", "-")
    number = 1
    while f"{stem}-{number}" in used:
        number += 1
    return f"{stem}-{number}"


def reachable(document: Mapping[str, Any]) -> set[str]:
    """The ids of the steps a run can reach from the first step or the goal's step."""
    data = dict(document)
    steps = _steps(data)
    index = {step.get("id"): i for i, step in enumerate(steps)}
    goal = data.get("goal") if isinstance(data.get("goal"), dict) else None
    todo = [steps[0].get("id")] if steps else []
    if goal and goal.get("step"):
        todo.append(goal["step"])
    seen: set[str] = set()
    while todo:
        current = todo.pop()
        if current in seen or current not in index:
            continue
        seen.add(str(current))
        step = steps[index[current]]
        if is_linear(step):
            todo.append(following(data, index[current]))
        else:
            todo.extend(target for _, target in arms(step))
    return seen


# -- operations ----------------------------------------------------------------------------


def blank_step(kind: str, step_id: str, target: str) -> dict[str, Any]:
    """A new step of ``kind`` with sensible settings; branching steps lead every way to
    ``target`` until the marketer says otherwise."""
    blanks: dict[str, dict[str, Any]] = {
        "wait": {"duration": "1d"},
        "send": {"channel": "email", "template": ""},
        "voucher": {"kind": "percent", "value": "10", "valid_days": 14},
        "tag": {"add": [], "remove": []},
        "if": {
            "condition": {"kind": "purchased_since_entered"},
            "then": target,
            "else": target,
        },
        "split": {
            "branches": [
                {"name": "A", "percent": 50, "next": target},
                {"name": "B", "percent": 50, "next": target},
            ]
        },
        "wait_for_event": {
            "event": "Order Completed",
            "timeout": "3d",
            "on_event": target,
            "on_timeout": target,
        },
        "exit": {"reason": "done"},
    }
    if kind not in blanks:
        raise EditRefused(f"a step cannot be of kind {kind!r} here", field="type")
    return {"id": step_id, "type": kind, **blanks[kind]}


def insert_step(
    document: Mapping[str, Any],
    kind: str,
    *,
    after: str | None = None,
    branch: tuple[str, str] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> tuple[Document, str]:
    """A new step of ``kind`` after step ``after`` (at the start when None), or at the start
    of ``branch`` (``(step id, arm label)``); returns the new document and the new step's id.

    Runs that went from ``after`` (or down the branch) to some step now pass through the new
    one first. A branching step inserted where runs used to end gets an exit step to lead to.
    """
    data = _copy(document)
    steps = _steps(data)
    new_id = new_step_id(data, kind)
    if branch is not None:
        owner = steps[position(data, branch[0])]
        targets = dict(arms(owner))
        if branch[1] not in targets or not targets[branch[1]]:
            raise EditRefused(f"step {branch[0]!r} has no branch {branch[1]!r}", field="branch")
        target: str | None = targets[branch[1]]
        where = position(data, str(target))
        before = steps[where - 1] if where > 0 else None
        if before is not None and is_linear(before) and not before.get("next"):
            before["next"] = target  # it went on to the target by order; say so, as it stays
        _set_arm(owner, branch[1], new_id)
    elif after is None:
        where, target = 0, str(steps[0]["id"]) if steps else None
    else:
        index = position(data, after)
        if not is_linear(steps[index]):
            raise EditRefused(
                f"step {after!r} leads several ways or ends the journey: insert the new step "
                "at the start of one of its branches instead",
                field=after,
            )
        target = following(data, index)
        steps[index]["next"] = None  # it now goes on to the new step, right after it
        where = index + 1
    step = blank_step(kind, new_id, target or new_id)
    step.update(settings or {})
    added = [step]
    if kind in BRANCHING and target is None:
        end = {"id": new_step_id({"steps": [*steps, step]}, "exit"), "type": "exit"}
        end["reason"] = "done"
        for label, _ in arms(step):
            _set_arm(step, label, end["id"])
        added.append(end)
    elif kind not in BRANCHING and kind != "exit":
        step["next"] = target if target and _after_insert(steps, where) != target else None
    steps[where:where] = added
    return data, new_id


def _after_insert(steps: Sequence[Mapping[str, Any]], where: int) -> str | None:
    """The id that will follow a step inserted at ``where``."""
    return str(steps[where]["id"]) if where < len(steps) else None


def delete_step(document: Mapping[str, Any], step_id: str, *, keep: str | None = None) -> Document:
    """The document without step ``step_id``; whatever led to it now leads where it went.

    A branching step leading different ways is deleted keeping one branch, ``keep`` (an arm
    label such as ``then`` or ``branch:A``); the other branches' steps stay, unreached until
    something leads to them (:func:`reachable`).

    Raises
    ------
    EditRefused
        When deleting would leave a branch leading nowhere, make a step run on into another
        instead of ending, start the journey elsewhere, or leave no step at all.
    """
    data = _copy(document)
    steps = _steps(data)
    index = position(data, step_id)
    step = steps[index]
    if len(steps) == 1:
        raise EditRefused("a journey needs at least one step", field=step_id)
    onward = _onward(data, index, keep)
    if onward == step_id:
        raise EditRefused(f"step {step_id!r} leads back to itself", field=step_id)
    follower = str(steps[index + 1]["id"]) if index + 1 < len(steps) else None
    for other in steps:
        if other is step:
            continue
        for label, target in arms(other):
            if target == step_id:
                if onward is None:
                    raise EditRefused(
                        f"the {_arm_words(label)} of {other['id']!r} leads to {step_id!r}, and "
                        "nothing comes after it: a branch must lead to a step. Point that "
                        "branch elsewhere first, or delete the branching step",
                        field=step_id,
                    )
                _set_arm(other, label, onward)
        if is_linear(other) and other.get("next") == step_id:
            if onward is None:
                raise EditRefused(
                    f"{other['id']!r} goes on to {step_id!r}, and nothing would come after it",
                    field=step_id,
                )
            other["next"] = onward
    before = steps[index - 1] if index > 0 else None
    if before is not None and is_linear(before) and not before.get("next") and onward != follower:
        if onward is None:
            raise EditRefused(
                f"without {step_id!r}, {before['id']!r} would go on to {follower!r} instead of "
                "ending the journey",
                field=step_id,
            )
        before["next"] = onward
    goal = data.get("goal")
    if isinstance(goal, dict) and goal.get("step") == step_id:
        goal["step"] = onward
    del steps[index]
    if index == 0 and onward is not None and onward != follower:
        _move_to_start(data, onward)
    return data


def _move_to_start(data: Document, step_id: str) -> None:
    """Make runs start at ``step_id`` by moving it first, pinning the routes that relied on
    the order (the step before it, and its own way on)."""
    steps = _steps(data)
    index = position(data, step_id)
    step = steps[index]
    if is_linear(step) and not step.get("next"):
        onward = following(data, index)
        if onward is None:
            raise EditRefused(
                f"the journey would have to start at {step_id!r}, the last step: move it to "
                "the start in the YAML first",
                field=step_id,
            )
        step["next"] = onward
    before = steps[index - 1] if index > 0 else None
    if before is not None and is_linear(before) and not before.get("next"):
        before["next"] = step_id
    steps.insert(0, steps.pop(index))


def _arm_words(label: str) -> str:
    if label.startswith("branch:"):
        return f"branch {label.removeprefix('branch:')!r}"
    return ARM_WORDS.get(label, label)


def _onward(data: Document, index: int, keep: str | None) -> str | None:
    """Where runs that reached the step at ``index`` should go once it is deleted."""
    step = _steps(data)[index]
    if step.get("type") == "exit":
        return None
    if is_linear(step):
        return following(data, index)
    outcomes = dict(arms(step))
    if keep is None:
        if len(set(outcomes.values())) == 1:
            return next(iter(outcomes.values()))
        ways = ", ".join(f"{_arm_words(label)} → {to}" for label, to in outcomes.items())
        raise EditRefused(
            f"step {step['id']!r} leads several ways ({ways}): say which branch to keep",
            field=str(step["id"]),
        )
    if keep not in outcomes:
        raise EditRefused(f"step {step['id']!r} has no branch {keep!r}", field=str(step["id"]))
    return outcomes[keep]


def set_step(document: Mapping[str, Any], step_id: str, settings: Mapping[str, Any]) -> Document:
    """The document with step ``step_id``'s settings replaced by ``settings`` (its id and kind
    stay; settings left out keep their value)."""
    data = _copy(document)
    step = _steps(data)[position(data, step_id)]
    step.update({k: copy.deepcopy(v) for k, v in settings.items() if k not in ("id", "type")})
    return data


def add_branch(
    document: Mapping[str, Any], split_id: str, name: str, percent: int, target: str
) -> Document:
    """The document with a branch ``name`` added to split ``split_id`` (percentages are the
    marketer's to balance: :func:`problems` says when they do not add up to 100)."""
    data = _copy(document)
    step = _steps(data)[position(data, split_id)]
    if step.get("type") != "split":
        raise EditRefused(f"{split_id!r} is not a split: only splits have extra branches")
    names = {branch.get("name") for branch in step.get("branches") or []}
    if name in names:
        raise EditRefused(f"split {split_id!r} already has a branch {name!r}", field=split_id)
    position(data, target)  # it must exist
    step.setdefault("branches", []).append({"name": name, "percent": percent, "next": target})
    return data


def remove_branch(document: Mapping[str, Any], split_id: str, name: str) -> Document:
    """The document without branch ``name`` of split ``split_id``.

    Raises
    ------
    EditRefused
        When the split would be left with one branch (delete the split instead).
    """
    data = _copy(document)
    step = _steps(data)[position(data, split_id)]
    branches = [b for b in step.get("branches") or [] if b.get("name") != name]
    if len(branches) == len(step.get("branches") or []):
        raise EditRefused(f"split {split_id!r} has no branch {name!r}", field=split_id)
    if len(branches) < 2:
        raise EditRefused(
            f"a split needs two branches or more: delete the split {split_id!r} instead, "
            "keeping the branch you want",
            field=split_id,
        )
    step["branches"] = branches
    return data


def set_part(document: Mapping[str, Any], part: str, value: Mapping[str, Any] | None) -> Document:
    """The document with its ``trigger``, ``entry`` rules or ``goal`` (None: no goal) replaced."""
    if part not in ("trigger", "entry", "goal"):
        raise EditRefused(f"{part!r} is not the trigger, entry rules or goal", field=part)
    data = _copy(document)
    if value is None and part == "goal":
        data.pop("goal", None)
    else:
        data[part] = copy.deepcopy(dict(value or {}))
    return data


# -- validation errors, placed -------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition, where the marketer will see it.

    ``place`` is a step id, or ``trigger``, ``entry``, ``goal`` or ``journey``; ``field`` the
    setting inside it (``duration``, ``branches.1.percent``), when known; ``message`` says what
    is wrong with it, to be shown after its name (unless ``named``: a form's sentence that names
    the field itself). ``detail`` is the validation error it came
    from, if any, for a form that names the field in its own words
    (:func:`lealta.problem_words.sentence`).
    """

    place: str
    field: str | None
    message: str
    detail: Mapping[str, Any] | None = dataclasses.field(default=None, compare=False, repr=False)
    named: bool = dataclasses.field(default=False, compare=False)  # ``message`` names the field


_PARTS = ("trigger", "entry", "goal")
_STEP_PREFIX = re.compile(r"^step '([^']+)': ")
_WORKFLOW_PREFIX = re.compile(r"^workflow '[^']*': ")
_TWICE = re.compile(r"^step id '([^']+)' is used twice")


def problems(document: Mapping[str, Any]) -> list[Problem]:
    """Everything wrong with ``document`` as a workflow definition (empty: it is valid)."""
    try:
        WorkflowDefinition.model_validate(document)
    except ValidationError as exc:
        return place_errors(exc, document)
    return []


def place_errors(error: ValidationError, document: Mapping[str, Any]) -> list[Problem]:
    """The definition's validation errors, each placed on the step (or part) it concerns,
    with its message in words."""
    found: list[Problem] = []
    steps = document.get("steps") if isinstance(document.get("steps"), list) else []
    for detail in error.errors():
        loc = detail["loc"]
        if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int) and steps:
            data = steps[loc[1]] if loc[1] < len(steps) else {}
            found.extend(_step_problems(data, loc[1], detail))
        elif loc and loc[0] in _PARTS:
            union = loc[0] == "trigger"
            found.append(Problem(str(loc[0]), _path(loc[1:], union=union), _words(detail), detail))
        elif loc:
            found.append(Problem("journey", _path(loc, union=False), _words(detail), detail))
        else:
            context = detail.get("ctx") or {}
            found.append(_graph_problem(str(context.get("error", detail["msg"]))))
    return found


def _step_problems(data: Any, index: int, detail: Any) -> list[Problem]:
    step_id = data.get("id") if isinstance(data, dict) else None
    place = step_id if isinstance(step_id, str) and step_id else f"step {index + 1}"
    if not isinstance(data, dict) or len(detail["loc"]) > 3 or not isinstance(step_id, str):
        return [Problem(place, _path(detail["loc"][3:], union=False), _words(detail), detail)]
    try:  # without its id, a step's errors are not folded into one line: each keeps its field
        _STEP.validate_python({k: v for k, v in data.items() if k != "id"})
    except ValidationError as inner:
        fields = [
            Problem(place, _path(e["loc"][1:], union=False), _words(e), e)
            for e in inner.errors()
            if e["loc"][-1:] != ("id",) and len(e["loc"]) > 1
        ]
        if fields:
            return fields
    return [Problem(place, None, _words(detail))]


def placed(message: str) -> Problem:
    """A refusal of the whole definition (a graph error, or a check made when saving, such
    as a tier the programme lacks) placed on the step or part its message names."""
    return _graph_problem(message)


def _graph_problem(message: str) -> Problem:
    message = _WORKFLOW_PREFIX.sub("", message)
    if found := _STEP_PREFIX.match(message):
        return Problem(found[1], None, message[found.end() :])
    if found := _TWICE.match(message):
        return Problem(found[1], "id", message)
    if message.startswith("goal "):
        return Problem("goal", "step", message)
    return Problem("journey", None, message)


_CONDITION_KINDS = frozenset(
    {
        "attribute",
        "tag",
        "list",
        "stage",
        "score",
        "segment",
        "cluster",
        "consent",
        "event_count",
        "message",
        "purchased_since_entered",
        "loyalty_tier",
        "loyalty_points",
        "all",
        "any",
        "not",
    }
)


def _path(loc: Sequence[int | str], *, union: bool) -> str | None:
    """A dotted setting path, without the union tags pydantic puts in locations."""
    parts = [str(part) for part in loc]
    if union and parts and parts[0] not in ("condition", "branches", "where"):
        parts = parts[1:]  # a trigger's or a step's type
    parts = [p for i, p in enumerate(parts) if not (i and parts[i - 1] == "condition")]
    parts = [p for p in parts if p not in _CONDITION_KINDS or p in ("tag", "list")]
    return ".".join(parts) or None


def _words(detail: Any) -> str:
    """A pydantic error as words a marketer can act on, shown after the setting's name."""
    context = detail.get("ctx") or {}
    if detail["type"] in ("value_error", "assertion_error") and "error" in context:
        text = _WORKFLOW_PREFIX.sub("", str(context["error"]))
        return _STEP_PREFIX.sub("", text) if not text.startswith("step id") else text
    if detail["type"] == "string_pattern_mismatch" and context.get("pattern") == SLUG_PATTERN:
        return "may hold only lower-case letters, digits, - and _"
    return say.predicate(detail)


# -- showing a definition ------------------------------------------------------------------


def compact(model: BaseModel) -> dict[str, Any]:
    """``model`` as data without the settings left at their defaults (``type`` and ``kind``
    stay, so a step still says what it is): what the YAML view shows."""
    shown: dict[str, Any] = {}
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if name not in ("type", "kind") and not info.is_required() and value == info.default:
            continue
        shown[info.alias or name] = _plain(value)
    return shown


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return compact(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return TypeAdapter(Any).dump_python(value, mode="json")
