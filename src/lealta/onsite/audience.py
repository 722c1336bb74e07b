"""Who sees an on-site placement: the audience model and its matching. Pure.

An audience is data kept on the placement (``OnsitePlacement.audience``)::

    {"version": 1, "segments": ["Champions", "Loyal Customers"], "tags": ["vip"],
     "exclude_tags": ["unsubscribed-banner"], "score_min": 20}
    {"version": 1, "tiers": ["Gold", "Platinum"]}
    {"version": 1, "condition": {"kind": "event_count", "event": "Product Viewed",
     "within_days": 14, "gte": 3, "where": [{"property": "category", "op": "equals",
     "value": "shoes"}]}}

The criteria are the shared condition language (:mod:`lealta.conditions`) written short:
:meth:`Audience.as_condition` maps them onto its tree, and-ed with ``condition`` (any
condition of that language) when given, and matching is the language's evaluation.

Each criterion given must hold (they are and-ed); within one criterion any value will do (a
visitor in *any* of ``segments``, with *any* of ``tags``, subscribed to *any* of ``lists`` …).
``exclude_tags`` is the exception: none of them may be present. The score range includes
both ends.

An empty audience matches everyone, anonymous visitors included. Any criterion about the
person (segments, clusters, tags, lists, stages, score, loyalty tiers, a ``condition``)
needs a profile, so anonymous visitors never match one. ``tiers`` holds the loyalty tiers
(of the programme in force) whose members see the placement; the caller says which tier the
visitor holds, and only for a visitor who proved to be the member (see
:mod:`lealta.onsite.service`). Consent plays no part: on-site content is shown on the shop's
own page to whoever is looking at it, nothing is sent to anyone.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from lealta.conditions import (
    AllOf,
    AnyOf,
    ClusterCondition,
    ConditionSpec,
    ContactView,
    ListCondition,
    Not,
    ScoreCondition,
    SegmentCondition,
    StageCondition,
    TagCondition,
    dump,
    evaluate,
    run_only,
)
from lealta.conditions.reads import condition_needs
from lealta.errors import InvalidInput
from lealta.scoring.rules import describe_errors

Name = Annotated[str, Field(min_length=1, max_length=100)]
Names = Annotated[list[Name], Field(max_length=100)]


class Audience(BaseModel):
    """Who sees a placement; see the module docstring for the rules."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    version: Literal[1] = 1
    segments: Names = Field(default_factory=list, description="RFM segment names.")
    clusters: Names = Field(default_factory=list, description="K-Means cluster names.")
    tags: Names = Field(default_factory=list, description="Any of these tags.")
    exclude_tags: Names = Field(default_factory=list, description="None of these tags.")
    lists: Names = Field(default_factory=list, description="Subscribed to any of these lists.")
    stages: Names = Field(default_factory=list, description="Lifecycle stages.")
    score_min: Annotated[FiniteFloat | None, Field(description="Lead score at least this.")] = None
    score_max: Annotated[FiniteFloat | None, Field(description="Lead score at most this.")] = None
    tiers: Names = Field(
        default_factory=list,
        description="Members of any of these loyalty tiers (the programme in force).",
    )
    condition: ConditionSpec | None = Field(
        default=None,
        description="Any condition of the shared condition language (docs/conditions.md), "
        "and-ed with the criteria above; not the workflow-only tests.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (
            self.score_min is not None
            and self.score_max is not None
            and self.score_min > self.score_max
        ):
            raise ValueError("score_min must not be above score_max")
        if self.condition is not None and run_only(self.condition):
            raise ValueError(
                f"condition: {', '.join(run_only(self.condition))} need a workflow run"
            )
        return self

    # No return annotation: pydantic then keeps the model's own schema in the OpenAPI
    # document (an annotated dict or Any would replace it).
    @model_serializer(mode="wrap")
    def _condition_whole(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        # The condition is written whole (its kinds included) whatever defaults the caller
        # leaves out, so a stored audience loads back.
        data: dict[str, Any] = handler(self)
        if self.condition is not None and "condition" in data:
            data["condition"] = dump(self.condition)
        return data

    def as_condition(self) -> AllOf:
        """The criteria about the person's profile as one condition of the shared language
        (see the module docstring). ``tiers`` stays apart: it tests the tier the caller
        says the visitor proved to hold, by its exact name."""
        parts: list[Any] = []
        if self.segments:
            parts.append(SegmentCondition.model_validate({"in": self.segments}))
        if self.clusters:
            parts.append(ClusterCondition.model_validate({"in": self.clusters}))
        if self.tags:
            parts.append(AnyOf(conditions=[TagCondition(tag=tag) for tag in self.tags]))
        parts += [Not(condition=TagCondition(tag=tag)) for tag in self.exclude_tags]
        if self.lists:
            parts.append(AnyOf(conditions=[ListCondition(list=slug) for slug in self.lists]))
        if self.stages:
            parts.append(StageCondition.model_validate({"in": self.stages}))
        if self.score_min is not None or self.score_max is not None:
            parts.append(ScoreCondition(gte=self.score_min, lte=self.score_max))
        if self.condition is not None:
            parts.append(self.condition)
        return AllOf(conditions=parts)

    def about_the_person(self) -> bool:
        """Whether any criterion needs a profile."""
        return bool(
            self.segments
            or self.clusters
            or self.tags
            or self.exclude_tags
            or self.lists
            or self.stages
            or self.score_min is not None
            or self.score_max is not None
            or self.tiers
            or self.condition is not None
        )

    def needs(self) -> frozenset[str]:
        """The parts of a contact view matching reads (see :mod:`lealta.conditions.views`)."""
        parts: set[str] = set()
        if self.segments or self.clusters:
            parts.add("rfm")
        if self.tags or self.exclude_tags:
            parts.add("tags")
        if self.lists:
            parts.add("lists")
        if self.score_min is not None or self.score_max is not None:
            parts.add("score")
        if self.condition is not None:
            parts |= condition_needs(self.condition)
        return frozenset(parts)


EVERYONE = Audience()


def parse(data: Any) -> Audience:
    """An audience from stored or submitted data; ``InvalidInput`` (field ``audience``)."""
    if data is None:
        return EVERYONE
    try:
        return Audience.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(f"audience: {describe_errors(exc)}", field="audience") from None


def matches(
    audience: Audience,
    view: ContactView | None,
    *,
    tier: str | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Whether the visitor whose profile is ``view`` (``None``: anonymous) is in ``audience``;
    ``tier`` is the loyalty tier they hold (``None``: none, or not proven). ``now`` is needed
    by an audience's ``condition`` (windows end at it); the short criteria read no time."""
    if view is None:
        return not audience.about_the_person()
    if audience.condition is not None and now is None:
        raise ValueError("an audience with a condition is matched at a moment: give now")
    if audience.tiers and tier not in audience.tiers:
        return False
    return evaluate(audience.as_condition(), view, now=now or _TIMELESS)


# The moment given to criteria that read no time (every short criterion).
_TIMELESS = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
