"""Impressions and clicks of on-site content, from their signed tokens.

A workflow's message seen is an ``opened`` interaction of its outbox row
(:func:`lealta.feedback.service.record`, once per row). A placement seen or clicked is an
``Onsite Impression`` / ``Onsite Click`` tracking message under the visitor's anonymous id or
user id, which the caller puts in the tracking inbox so it is applied like any other event
(scoring, segments, workflow triggers); a visitor with neither id is not recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lealta.config import Settings
from lealta.errors import InvalidInput
from lealta.feedback.service import record
from lealta.onsite.tokens import OnsiteTokens
from lealta.tracking.messages import iso

IMPRESSION_EVENT = "Onsite Impression"
CLICK_EVENT = "Onsite Click"
LIBRARY = {"name": "lealta-onsite"}


@dataclass(frozen=True)
class Click:
    """Where a placement's click link leads, and the event recording it (``None``: the
    visitor had no id to record it under)."""

    url: str
    event: dict[str, Any] | None


@dataclass(frozen=True)
class Impression:
    """The outcome of reporting an impression: whether it counts, and for a placement the
    ``Onsite Impression`` tracking message the caller puts in the tracking inbox."""

    recorded: bool
    event: dict[str, Any] | None = None


def record_impression(
    session: Session,
    settings: Settings,
    token: str,
    *,
    now: dt.datetime,
    page_url: str | None = None,
) -> Impression:
    """Record that the content of impression ``token`` was seen.

    A workflow's message gets an ``opened`` interaction, once per message (a later report
    is not recorded). A placement's impression is an ``Onsite Impression`` tracking message,
    returned for the caller to queue (not recorded when the visitor had no id). Raises
    ``InvalidInput`` (field ``token``) for a forged or malformed token.
    """
    claims = OnsiteTokens(settings.secret_key).read(token, "impression")
    outbox_id = claims.get("m")
    if isinstance(outbox_id, int):
        interaction = record(
            session,
            outbox_id=outbox_id,
            kind="opened",
            at=now,
            details=_compact({"slot": claims.get("s"), "page": page_url}),
            dedupe_key=f"onsite:{outbox_id}:opened",
        )
        return Impression(recorded=interaction is not None)
    event = _tracking_message(
        claims,
        IMPRESSION_EVENT,
        message_id=f"onsite-impression-{claims.get('n', '')}",
        now=now,
        extra={"page": page_url},
    )
    return Impression(recorded=event is not None, event=event)


def click(settings: Settings, token: str, *, now: dt.datetime) -> Click:
    """The target of a placement's click link and its ``Onsite Click`` tracking message.

    The message id derives from the showing and the target, so a double click is one click.
    Raises ``InvalidInput`` (field ``token``) for a forged or malformed token.
    """
    claims = OnsiteTokens(settings.secret_key).read(token, "click")
    url = claims.get("u")
    if not isinstance(url, str):
        raise InvalidInput("the link is malformed", field="token")
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    event = _tracking_message(
        claims,
        CLICK_EVENT,
        message_id=f"onsite-click-{claims.get('n', '')}-{digest}",
        now=now,
        extra={"url": url},
    )
    return Click(url, event)


def _tracking_message(
    claims: Mapping[str, Any],
    event: str,
    *,
    message_id: str,
    now: dt.datetime,
    extra: Mapping[str, Any],
) -> dict[str, Any] | None:
    identity = _compact({"anonymousId": claims.get("a"), "userId": claims.get("i")})
    if not identity:
        return None
    properties = _compact(
        {
            "placement": claims.get("p"),
            "slot": claims.get("s"),
            "template": claims.get("t"),
            **extra,
        }
    )
    return {
        "type": "track",
        "event": event,
        "messageId": message_id,
        "timestamp": iso(now),
        "properties": properties,
        "context": {"library": LIBRARY},
        **identity,
    }


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
