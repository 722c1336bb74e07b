"""Request and response bodies of the forms endpoints (they feed the OpenAPI docs)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

Channel = Literal["email", "sms", "push", "web_push", "ads"]


class FormIn(BaseModel):
    """A new sign-up form."""

    slug: str = Field(
        min_length=1,
        max_length=100,
        description="Lower-case id used in the URL: POST /v1/forms/{slug}.",
        examples=["newsletter"],
    )
    name: str = Field("", max_length=200, description="A human name, shown as the form's title.")
    list_slug: str | None = Field(
        None,
        validation_alias="list",
        max_length=100,
        description="The list submissions subscribe to (by slug); created when missing, with "
        "this form's double opt-in setting.",
    )
    double_opt_in: bool = Field(
        False,
        description="Subscriptions and consents stay pending until the link in the "
        "confirmation message is followed.",
    )
    consent_channels: list[Channel] = Field(
        default_factory=list,
        description="Channels offered as consent boxes (`consent_email=on` …) and recorded.",
    )
    redirect_url: str | None = Field(
        None,
        max_length=2000,
        description="Where browsers go after submitting (`?lealta=ok` is added); the page "
        "the form was on (Referer) when unset.",
    )


class FormOut(BaseModel):
    """A sign-up form as stored."""

    slug: str
    name: str
    list_slug: str | None = Field(
        None, serialization_alias="list", description="The list's slug, if any."
    )
    double_opt_in: bool
    consent_channels: list[str]
    redirect_url: str | None
    created_at: dt.datetime
    action: str = Field(description="The URL the HTML form posts to.")


class SubmitAnswer(BaseModel):
    """The answer to a submission when the client asks for JSON."""

    ok: bool = True
    status: Literal["subscribed", "pending"] = Field(
        description="`pending` while a double opt-in awaits confirmation."
    )


class ConfirmAnswer(BaseModel):
    """The answer to a confirmation link when the client asks for JSON."""

    ok: bool = True
    status: str = Field(description="`subscribed`, or `unsubscribed` if the person left since.")
