"""An audience's definition: its name, what it is for, its condition and the list its
members are synchronised into. Pure: validated data and what can be read off it.

A definition is YAML or JSON::

    version: 1
    name: Shoe lovers
    description: Viewed shoes three times in two weeks and bought none in 90 days.
    list: shoe-lovers            # optional: the list kept equal to the members
    condition:
      kind: all
      conditions:
        - {kind: event_count, event: Product Viewed, within_days: 14, gte: 3,
           where: [{property: category, op: equals, value: shoes}]}
        - {kind: event_count, event: Order Completed, within_days: 90, gte: 0, lte: 0}

The condition is the shared condition language (:mod:`lealta.conditions`), without the kinds
that only mean something inside a workflow run (what happened since the run entered).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from lealta.conditions import (
    ClusterCondition,
    ConditionSpec,
    RfmCondition,
    SegmentCondition,
    audiences_named,
    run_only,
    walk,
)
from lealta.errors import InvalidInput
from lealta.scoring.rules import describe_errors
from lealta.yaml_input import load_yaml

NAME_PATTERN = r"^[^\s].{0,98}[^\s]$|^[^\s]$"
_CONDITION: TypeAdapter[Any] = TypeAdapter(ConditionSpec)


class AudienceDefinition(BaseModel):
    """A saved audience, as users write it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    version: Literal[1] = Field(default=1, description="The format's version (1).")
    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=NAME_PATTERN,
        description="Unique; what {kind: audience, audience: NAME} conditions name.",
    )
    description: str = Field(default="", max_length=1000)
    list_: str | None = Field(
        default=None,
        alias="list",
        min_length=1,
        max_length=100,
        description="The slug of a list kept equal to the members (joined as they enter, "
        "left as they exit); none: no list.",
    )
    condition: ConditionSpec = Field(description="Who is in: the shared condition language.")


def load_definition(source: str | Mapping[str, Any]) -> AudienceDefinition:
    """An audience definition from YAML/JSON text or a parsed mapping.

    Raises
    ------
    InvalidInput
        When the text does not parse, the definition is invalid (``field`` is the dotted
        place of the first problem, e.g. ``condition.conditions.0.gte``), or its condition
        tests what only a workflow run knows (when the run entered).
    """
    data: Any = load_yaml(source, field="definition") if isinstance(source, str) else source
    if not isinstance(data, Mapping):
        raise InvalidInput("an audience definition must be a mapping", field="definition")
    try:
        definition = AudienceDefinition.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(
            f"invalid audience: {describe_errors(exc)}", field=_place(exc), details=exc.errors()
        ) from None
    _refuse_run_only(definition.condition)
    return definition


def load_condition(source: Any) -> Any:
    """A condition alone (a builder's preview, a stored condition), checked as in a
    definition."""
    if isinstance(source, str):
        source = load_yaml(source, field="condition")
    try:
        condition = _CONDITION.validate_python(source)
    except ValidationError as exc:
        raise InvalidInput(
            f"invalid condition: {describe_errors(exc)}",
            field=_place(exc, "condition"),
            details=exc.errors(),
        ) from None
    _refuse_run_only(condition)
    return condition


def dump(definition: AudienceDefinition) -> dict[str, Any]:
    """``definition`` as JSON-able data that :func:`load_definition` reads back equal."""
    data = definition.model_dump(mode="json", by_alias=True)
    data["condition"] = dump_condition(definition.condition)
    return data


def dump_condition(condition: Any) -> dict[str, Any]:
    """A condition as JSON-able data, every node with its ``kind`` and every field (stored
    versions are explicit, as workflows' are)."""
    data: dict[str, Any] = _CONDITION.dump_python(condition, mode="json", by_alias=True)
    return data


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of audience definitions."""
    return AudienceDefinition.model_json_schema(by_alias=True)


def referred(stored: Mapping[str, Any]) -> set[str]:
    """The audiences a stored condition refers to (``{kind: audience, audience: NAME}``)."""
    return set(audiences_named(load_condition(stored)))


def time_bound(stored: Mapping[str, Any]) -> bool:
    """Whether a stored condition's truth can change by time passing alone (a window)."""
    return any(
        getattr(node, "within_days", None) is not None for node in walk(load_condition(stored))
    )


def rfm_bound(stored: Mapping[str, Any]) -> bool:
    """Whether a stored condition reads what an RFM recomputation changes."""
    rfm = SegmentCondition | ClusterCondition | RfmCondition
    return any(isinstance(node, rfm) for node in walk(load_condition(stored)))


def _refuse_run_only(condition: Any) -> None:
    refused = run_only(condition)
    if refused:
        raise InvalidInput(
            f"{', '.join(refused)}: reads when a workflow run entered, which means nothing "
            "in an audience; use a window (within_days) instead",
            field="condition",
        )


def _place(exc: ValidationError, prefix: str | None = None) -> str:
    """The dotted place of the first problem, without pydantic's union tags (the kind named
    right after ``condition`` or after an index into ``conditions``)."""
    errors = exc.errors()
    loc = list(errors[0]["loc"]) if errors else []
    if prefix:
        loc.insert(0, prefix)
    parts: list[str] = []
    for i, part in enumerate(loc):
        after_index = i >= 2 and isinstance(loc[i - 1], int) and loc[i - 2] == "conditions"
        if isinstance(part, str) and i >= 1 and (loc[i - 1] == "condition" or after_index):
            continue
        parts.append(str(part))
    return ".".join(parts) or "definition"
