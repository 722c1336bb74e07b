"""The shapes of the contacts API: what callers send and what profiles look like.

These pydantic models are the contract of ``/v1/contacts``, ``/v1/lists`` and
``/v1/attributes``; their field descriptions become the OpenAPI documentation.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from lealta.nesting import JsonObject


def as_utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC; a naive time (SQLite gives those back) is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


UtcTime = Annotated[dt.datetime, AfterValidator(as_utc)]
Channel = Literal["email", "sms", "push", "web_push", "ads"]
ConsentStatus = Literal["granted", "denied", "pending"]
MembershipStatus = Literal["subscribed", "pending", "unsubscribed"]
AttributeType = Literal[
    "string", "number", "integer", "boolean", "date", "datetime", "timezone", "language"
]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")]
Tag = Annotated[str, Field(min_length=1, max_length=100)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# -- requests ------------------------------------------------------------------------------


class IdentifiersIn(_Strict):
    """Ways to recognise the person; each (kind, value) belongs to one contact only."""

    email: str | None = Field(
        default=None, max_length=320, description="E-mail address (lower-cased)."
    )
    phone: str | None = Field(
        default=None, max_length=64, description="Phone number; stored in E.164 (+34600123456)."
    )
    user_id: str | None = Field(default=None, max_length=320, description="Your system's user id.")
    external_id: str | None = Field(
        default=None,
        max_length=320,
        pattern=r"^[^:\s]+:.+$",
        description="An id in another system, written TYPE:ID (e.g. shopify:1234).",
    )
    anonymous_id: str | None = Field(
        default=None, max_length=320, description="A device or browser id (rarely set by hand)."
    )

    def given(self) -> dict[str, str]:
        """The identifiers that have a value, kind → value."""
        return {kind: value for kind, value in self.model_dump().items() if value}


class ContactIn(_Strict):
    """A new contact: at least one identifier; attributes, tags, lists and consent optional."""

    identifiers: IdentifiersIn = Field(description="At least one identifier.")
    attributes: JsonObject = Field(
        default_factory=dict,
        description="Custom attributes; declared ones (see /v1/attributes) are type-checked.",
    )
    tags: list[Tag] = Field(default_factory=list, description="Free-form tags.")
    lists: list[Slug] = Field(
        default_factory=list,
        description="Slugs of lists to join (pending confirmation on double opt-in lists).",
    )
    consent: dict[str, ConsentStatus] = Field(
        default_factory=dict,
        description=(
            "Consent per channel (email, sms, push, web_push, ads): granted|denied|pending."
        ),
    )
    source: str = Field(default="api", max_length=200, description="Where this contact came from.")


class ContactPatch(_Strict):
    """Changes to a contact. Attributes merge: a ``null`` value removes the attribute."""

    attributes: JsonObject = Field(
        default_factory=dict, description="Attributes to set; null removes one."
    )
    identifiers: dict[str, str | None] = Field(
        default_factory=dict,
        description="Identifiers to add (kind → value); null removes every one of that kind.",
    )


class AttributeDefinitionIn(_Strict):
    """The declared type of a custom attribute."""

    type: AttributeType = Field(description="The type values are checked against.")
    description: str = Field(default="", max_length=500)


class ListIn(_Strict):
    """A new list."""

    slug: Slug = Field(description="Stable id: lower-case letters, digits, - and _.")
    name: str = Field(min_length=1, max_length=200)
    double_opt_in: bool = Field(
        default=False, description="New members stay pending until they confirm their address."
    )


class MembershipIn(_Strict):
    """Joining a list."""

    source: str = Field(
        default="api", max_length=200, description="Where the subscription came from."
    )
    confirmed: bool = Field(
        default=False,
        description="The person already confirmed: subscribe at once even on a double opt-in list.",
    )


class ConsentIn(_Strict):
    """A consent decision for one channel."""

    status: ConsentStatus
    source: str = Field(default="api", max_length=200, description="Form, import, support call …")
    proof: JsonObject = Field(
        default_factory=dict, description="Evidence: IP address, user agent, form, text shown."
    )


# -- responses -----------------------------------------------------------------------------


class ConsentOut(BaseModel):
    """One consent decision."""

    channel: str
    status: str
    source: str
    proof: dict[str, Any] = Field(default_factory=dict)
    recorded_at: UtcTime


class ConsentView(BaseModel):
    """The decision in force per channel and the whole history, oldest first."""

    current: dict[str, ConsentOut]
    history: list[ConsentOut]


class MembershipOut(BaseModel):
    """A contact's place on a list."""

    slug: str
    name: str
    status: MembershipStatus
    source: str
    updated_at: UtcTime


class RfmOut(BaseModel):
    """The latest RFM/RFMP result for the contact (``lealta rfm --from-store``)."""

    segment: str
    code: str
    r: int
    f: int
    m: int
    p: int | None
    recency_days: int
    frequency: int
    monetary: float
    cluster_name: str | None
    as_of: UtcTime


class Profile(BaseModel):
    """A contact as the API shows it."""

    id: str
    created_at: UtcTime
    updated_at: UtcTime
    identifiers: dict[str, list[str]] = Field(description="Identifier values grouped by kind.")
    attributes: dict[str, Any]
    lifecycle_stage: str | None
    score: float = Field(description="The current lead score.")
    tags: list[str]
    lists: list[MembershipOut]
    consent: dict[str, ConsentOut] = Field(description="The decision in force per channel.")
    first_seen_at: UtcTime | None
    last_seen_at: UtcTime | None
    rfm: RfmOut | None
    merged_from: str | None = Field(
        default=None,
        description="Set when the id asked for was merged into this contact: that old id.",
    )


class ContactPage(BaseModel):
    """One page of contacts, oldest first."""

    contacts: list[Profile]
    next: str | None = Field(description="Pass as ``cursor`` for the next page; null at the end.")


class AttributeOut(BaseModel):
    """A declared or built-in attribute."""

    name: str
    type: str
    description: str
    built_in: bool


class ListOut(BaseModel):
    """A list with its member counts by status."""

    slug: str
    name: str
    double_opt_in: bool
    created_at: UtcTime
    members: dict[str, int] = Field(description="Counts by status: subscribed, pending …")


class TimelineEntry(BaseModel):
    """One thing that happened to the person."""

    at: UtcTime
    kind: Literal["event", "order", "stage", "score", "consent"]
    title: str = Field(description="Human text, e.g. 'Order Completed · 49.90 EUR'.")
    details: dict[str, Any]


class TimelineRun(BaseModel):
    """One of the person's trips through a workflow."""

    id: str
    workflow_id: str
    workflow: str | None = Field(description="The workflow's name.")
    status: str = Field(description="active, waiting, done, goal or exited.")
    step_id: str | None = Field(description="The current step (where it waits, or ended).")
    wake_at: UtcTime | None
    exit_reason: str | None = Field(description="Why it left early (exited runs).")
    entered_at: UtcTime
    updated_at: UtcTime


class HeldMessage(BaseModel):
    """A message waiting for the end of the person's quiet hours."""

    id: int
    channel: str
    template: str
    run_id: str | None
    until: UtcTime = Field(description="When it goes out (unless the quiet hours change).")
    reason: str | None = Field(
        description="Why, e.g. 'quiet hours 21:00-08:00 in Europe/Rome until 2025-06-03 "
        "08:00 local time'."
    )


class TimelineSummary(BaseModel):
    """The person at a glance."""

    id: str
    identifiers: dict[str, list[str]]
    lifecycle_stage: str | None
    score: float
    orders: int = Field(description="Number of orders.")
    revenue: dict[str, Decimal] = Field(description="Sum of order amounts per currency.")
    last_order_at: UtcTime | None
    first_seen_at: UtcTime | None
    last_seen_at: UtcTime | None
    tags: list[str]
    lists: list[MembershipOut]
    consent: dict[str, ConsentOut]
    workflow_runs: list[TimelineRun] = Field(
        default_factory=list, description="The newest workflow runs (at most 20), newest first."
    )
    held_messages: list[HeldMessage] = Field(
        default_factory=list, description="Messages held for quiet hours, soonest first."
    )


class Timeline(BaseModel):
    """The single customer view: a summary and everything that happened, newest first."""

    profile: TimelineSummary
    entries: list[TimelineEntry]
    next_before: str | None = Field(
        description="Pass as ``before`` for older entries; null when there are none."
    )


class Erasure(BaseModel):
    """What an erasure removed or anonymised."""

    contact_id: str
    erased_at: UtcTime
    contacts: int = Field(description="Profiles erased (the contact and those merged into it).")
    identifiers: int
    tags: int
    list_memberships: int
    events_anonymised: int
    orders_kept: int
    consents_kept: int
    score_changes: int
