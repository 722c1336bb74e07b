"""The tracking request bodies as JSON schemas, for the OpenAPI documentation.

Validation itself is :func:`lealta.tracking.messages.normalize` (hand-written for speed and for
per-message errors inside a batch); these models only describe the shapes to API readers.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Message(BaseModel):
    """A message of the Segment HTTP tracking spec."""

    model_config = ConfigDict(extra="allow")

    type: Literal["track", "identify", "page", "screen", "alias", "group"] | None = Field(
        None, description="Implied by the endpoint; required inside a batch."
    )
    messageId: str | None = Field(
        None, description="Unique id; a message with an id already seen is stored once."
    )
    userId: str | None = Field(None, description="Your id for the person.")
    anonymousId: str | None = Field(
        None, description="A device or browser id; userId or anonymousId is required."
    )
    event: str | None = Field(None, description="track: the event name, e.g. Order Completed.")
    name: str | None = Field(None, description="page/screen: the page or screen name.")
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = Field(
        None, description="identify: attributes of the person (email, phone, birthday …)."
    )
    context: dict[str, Any] | None = Field(
        None, description="ip, userAgent, page, campaign (UTM), library, locale …"
    )
    timestamp: str | None = Field(None, description="When it happened (ISO 8601).")
    sentAt: str | None = Field(
        None, description="When the client sent it; used to correct the client's clock."
    )
    previousId: str | None = Field(None, description="alias: the old id.")
    groupId: str | None = Field(None, description="group: the account id.")


class Batch(BaseModel):
    """Up to 500 KB of messages, each at most 32 KB."""

    batch: list[Message]
    context: dict[str, Any] | None = Field(None, description="Merged into every message.")
    sentAt: str | None = None
    writeKey: str | None = Field(
        None, description="The write key, when it cannot go in the Authorization header."
    )


class Accepted(BaseModel):
    """The answer to an accepted request."""

    success: bool = True
    accepted: int = Field(description="Messages newly stored (each will be applied once).")
    duplicates: int = Field(
        description="Messages that repeat one already stored (the same `messageId`, or, "
        "without one, the same content): answered with success, stored once."
    )
    rejected: list[dict[str, Any]] = Field(
        default_factory=list, description="Per refused message: index, field, reason."
    )
