"""Placements as the API and the CLI write and read them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lealta.contacts.schemas import UtcTime
from lealta.moments import Moment
from lealta.onsite.audience import EVERYONE, Audience

Slug = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")]
"""Placement ids and slot names: letters, digits, ``_ . : -``; 1 to 100 characters."""


class PlacementIn(BaseModel):
    """A placement to save: what ``slot`` shows to ``audience``, from when to when."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    slot: Slug = Field(description="The slot name, as in `data-lealta-slot` on the page.")
    template: str = Field(
        min_length=1, max_length=200, description="An `onsite` message template's id."
    )
    audience: Annotated[
        Audience, Field(description="Who sees it; empty: everyone, anonymous visitors too.")
    ] = EVERYONE
    priority: int = Field(
        0,
        ge=-1000,
        le=1000,
        description="Among placements a visitor qualifies for, the highest wins.",
    )
    status: Literal["active", "paused"] = "active"
    starts_at: Moment | None = Field(None, description="Not shown before this moment.")
    ends_at: Moment | None = Field(None, description="Not shown from this moment on.")

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class PlacementOut(BaseModel):
    """A stored placement."""

    id: str
    slot: str
    template: str
    audience: Audience
    priority: int
    status: Literal["active", "paused"]
    starts_at: UtcTime | None
    ends_at: UtcTime | None
    created_at: UtcTime
    updated_at: UtcTime


def utc(moment: dt.datetime | None) -> dt.datetime | None:
    """``moment`` in UTC (a zone-less time, as SQLite gives them back, is taken as UTC)."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
