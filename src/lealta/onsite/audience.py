"""Who sees an on-site placement: the audience model and its matching. Pure.

An audience is data kept on the placement (``OnsitePlacement.audience``)::

    {"version": 1, "segments": ["Champions", "Loyal Customers"], "tags": ["vip"],
     "exclude_tags": ["unsubscribed-banner"], "score_min": 20}
    {"version": 1, "tiers": ["Gold", "Platinum"]}

Each criterion given must hold (they are and-ed); within one criterion any value will do (a
visitor in *any* of ``segments``, with *any* of ``tags``, subscribed to *any* of ``lists`` …).
``exclude_tags`` is the exception: none of them may be present. The score range includes
both ends.

An empty audience matches everyone, anonymous visitors included. Any criterion about the
person (segments, clusters, tags, lists, stages, score, loyalty tiers) needs a profile, so
anonymous visitors never match one. ``tiers`` holds the loyalty tiers (of the programme in
force) whose members see the placement; the caller says which tier the visitor holds, and
only for a visitor who proved to be the member (see :mod:`lealta.onsite.service`). Consent
plays no part: on-site content is shown on the shop's own page to whoever is looking at it,
nothing is sent to anyone.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, ValidationError, model_validator

from lealta.automations.conditions import ContactView
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

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (
            self.score_min is not None
            and self.score_max is not None
            and self.score_min > self.score_max
        ):
            raise ValueError("score_min must not be above score_max")
        return self

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
        )

    def needs(self) -> frozenset[str]:
        """The parts of a contact view matching reads (see :mod:`lealta.automations.views`)."""
        parts: set[str] = set()
        if self.segments or self.clusters:
            parts.add("rfm")
        if self.tags or self.exclude_tags:
            parts.add("tags")
        if self.lists:
            parts.add("lists")
        if self.score_min is not None or self.score_max is not None:
            parts.add("score")
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


def matches(audience: Audience, view: ContactView | None, *, tier: str | None = None) -> bool:
    """Whether the visitor whose profile is ``view`` (``None``: anonymous) is in ``audience``;
    ``tier`` is the loyalty tier they hold (``None``: none, or not proven)."""
    if view is None:
        return not audience.about_the_person()
    return all(
        (
            not audience.tiers or tier in audience.tiers,
            not audience.segments or view.segment in audience.segments,
            not audience.clusters or view.cluster in audience.clusters,
            not audience.tags or not view.tags.isdisjoint(audience.tags),
            view.tags.isdisjoint(audience.exclude_tags),
            not audience.lists or _subscribed_to_any(view, audience.lists),
            not audience.stages or view.stage in audience.stages,
            audience.score_min is None or view.score >= audience.score_min,
            audience.score_max is None or view.score <= audience.score_max,
        )
    )


def _subscribed_to_any(view: ContactView, lists: list[str]) -> bool:
    return any(view.lists.get(slug) == "subscribed" for slug in lists)
