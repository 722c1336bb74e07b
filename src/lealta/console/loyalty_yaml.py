"""The loyalty programme's YAML as the console's editor shows and reads it: the programme as
text, and every problem of an edited text with its place and line. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from lealta import problem_words as say
from lealta.errors import InvalidInput
from lealta.loyalty.program import LoyaltyProgram, _problem, dump
from lealta.yaml_input import load_yaml

_STEP = re.compile(r"^(?P<key>[^\[\]]+)(?:\[(?P<index>[^\]]+)\])?$")


@dataclass(frozen=True)
class Problem:
    """One thing to fix: where (``tiers[Gold].qualify.score_sum``; empty for the whole
    document), what, and the line of the text it concerns (None when not found)."""

    place: str
    message: str
    line: int | None


def to_yaml(program: LoyaltyProgram) -> str:
    """The programme as YAML, keys in the documented order, settings written out (empty
    descriptions left out)."""
    text: str = yaml.safe_dump(
        _without_empty(dump(program)), sort_keys=False, allow_unicode=True, width=100
    )
    return text


def _without_empty(data: Any) -> Any:
    """``data`` without its empty text values (``description: ''``)."""
    if isinstance(data, dict):
        return {k: _without_empty(v) for k, v in data.items() if v != ""}
    if isinstance(data, list):
        return [_without_empty(v) for v in data]
    return data


def check(text: str) -> tuple[LoyaltyProgram | None, list[Problem]]:
    """The programme ``text`` holds, or every problem found in it (with lines)."""
    try:
        data = load_yaml(text, field="program")
    except InvalidInput as exc:
        return None, [Problem("", str(exc), _yaml_error_line(text))]
    if not isinstance(data, dict):
        kind = "an empty document" if data is None else type(data).__name__
        return None, [Problem("", f"a loyalty programme must be a mapping, not {kind}", 1)]
    try:
        return LoyaltyProgram.model_validate(data), []
    except ValidationError as exc:
        found = [(error, *_problem(error, data)) for error in exc.errors()]
        return None, [
            Problem(where, _worded(error, where, what), line_of(text, where))
            for error, where, what in found
        ]


def _worded(error: Any, where: str, message: str) -> str:
    """The programme's own checks speak already; pydantic's sentences are put in the
    console's words, naming the key (``Fill in “name”``)."""
    if (error.get("ctx") or {}).get("error") is not None:
        return message
    key = re.sub(r"\[[^\]]*\]$", "", where.rsplit(".", 1)[-1]) or "the programme"
    return say.sentence(error, say.quoted(key))


def _yaml_error_line(text: str) -> int | None:
    try:
        yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return mark.line + 1 if mark is not None else None
    except yaml.YAMLError:
        return None
    return None


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for name, value in node.value:
            if isinstance(name, yaml.ScalarNode) and name.value == key:
                found: yaml.Node = value
                return found
    return None


def _item(node: yaml.Node | None, index: str) -> yaml.Node | None:
    """The item ``index`` (a number, or a tier's name) of a sequence node."""
    if not isinstance(node, yaml.SequenceNode):
        return None
    if index.isdigit():
        number = int(index)
        return node.value[number] if number < len(node.value) else None
    for item in node.value:
        name = _child(item, "name")
        if isinstance(name, yaml.ScalarNode) and name.value == index:
            found: yaml.Node = item
            return found
    return None


def line_of(text: str, place: str) -> int | None:
    """The line (from 1) of ``text`` where ``place`` is written, or of the nearest part of it
    that is (None when the text does not parse)."""
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for step in place.split(".") if place else []:
        match = _STEP.match(step)
        if match is None:
            break
        deeper = _child(node, match["key"])
        if deeper is not None and match["index"] is not None:
            deeper = _item(deeper, match["index"])
        if deeper is None:
            break
        node = deeper
        line = node.start_mark.line + 1
    return line


def as_data(program: LoyaltyProgram) -> dict[str, Any]:
    """The programme as stored (JSON-able)."""
    return dump(program)
