"""Tracking messages in the Segment HTTP tracking spec: validation and normalisation (pure).

A message arrives as a JSON object (``track``, ``identify``, ``page``, ``screen``, ``alias``,
``group``). :func:`normalize` checks it, fills ``messageId`` when the sender left it out (with a
hash of the content, so a retried copy is still recognised), corrects the client's clock, and
returns the canonical document that the inbox stores. Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from lealta.errors import InvalidInput
from lealta.moments import OutOfRange, shifted, utc_in_range
from lealta.nesting import check_depth

TYPES = ("track", "identify", "page", "screen", "alias", "group")
MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_ID_LENGTH = 128
MAX_NAME_LENGTH = 200
_OBJECT_FIELDS = ("properties", "traits", "context", "integrations")


@dataclass(frozen=True)
class Normalized:
    """A checked message: its id, the canonical JSON to store, and when it happened."""

    message_id: str
    payload: bytes
    occurred_at: dt.datetime


def normalize(
    raw: Any,
    *,
    received_at: dt.datetime,
    kind: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    received_text: str | None = None,
) -> Normalized:
    """Check one message and return its canonical form.

    Parameters
    ----------
    raw
        The decoded JSON object.
    received_at
        When the server received it (UTC); becomes ``receivedAt``.
    kind
        The type the endpoint implies (``/v1/track`` → ``track``); ``None`` for batch items,
        which carry their own ``type``.
    defaults
        Batch-level fields (``context``, ``integrations``, ``sentAt``) that items inherit.
    received_text
        ``received_at`` already written as ISO text (a batch writes it once for all).

    Raises
    ------
    InvalidInput
        Naming the offending field.
    """
    if not isinstance(raw, dict):
        raise InvalidInput("a message must be a JSON object", field="")
    message = dict(raw)
    if defaults:
        for key, value in defaults.items():
            if key == "context" and isinstance(message.get("context"), dict):
                message["context"] = {**value, **message["context"]}
            else:
                message.setdefault(key, value)
    message.pop("writeKey", None)
    message_type = message.get("type", kind)
    if kind is not None and message_type != kind:
        raise InvalidInput(f"type must be {kind!r} on this endpoint", field="type")
    if message_type not in TYPES:
        raise InvalidInput(f"type must be one of {', '.join(TYPES)}", field="type")
    message["type"] = message_type
    for field in ("userId", "anonymousId", "previousId", "groupId"):
        _identifier(message, field)
    for field in _OBJECT_FIELDS:
        value = message.get(field)
        if value is not None and not isinstance(value, dict):
            raise InvalidInput(f"{field} must be a JSON object", field=field)
    _check_type_fields(message, message_type)
    for field, value in message.items():
        if isinstance(value, dict | list):
            check_depth(value, field)

    timestamp = _moment(message, "timestamp")
    sent_at = _moment(message, "sentAt")
    occurred = _corrected(timestamp, sent_at, received_at)
    if timestamp is not None:
        message["originalTimestamp"] = message["timestamp"]
    message["timestamp"] = (
        iso(occurred) if timestamp is not None else received_text or iso(occurred)
    )
    message["receivedAt"] = received_text or iso(received_at)

    message_id = message.get("messageId")
    if message_id is None or message_id == "":
        message_id = (
            "h-" + hashlib.sha256(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)).hexdigest()[:40]
        )
    elif not isinstance(message_id, str) or len(message_id) > MAX_ID_LENGTH:
        raise InvalidInput(
            f"messageId must be a string of at most {MAX_ID_LENGTH} characters", field="messageId"
        )
    message["messageId"] = message_id

    payload = orjson.dumps(message)
    if len(payload) > MAX_MESSAGE_BYTES:
        raise InvalidInput(
            f"the message is {len(payload):,} bytes; at most {MAX_MESSAGE_BYTES:,} are accepted",
            field="",
        )
    return Normalized(message_id, payload, occurred)


def _identifier(message: dict[str, Any], field: str) -> None:
    value = message.get(field)
    if value is None:  # null is no id at all: a message naming nobody is refused below
        message.pop(field, None)
        return
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(f"{field} must be a string", field=field)
    text = str(value) if not isinstance(value, str) else value
    if not text.strip():
        message.pop(field)
        return
    if len(text) > MAX_ID_LENGTH:
        raise InvalidInput(f"{field} is longer than {MAX_ID_LENGTH} characters", field=field)
    message[field] = text


def _check_type_fields(message: dict[str, Any], message_type: str) -> None:
    if message_type == "alias":
        for field in ("userId", "previousId"):
            if field not in message:
                raise InvalidInput(f"an alias needs {field}", field=field)
        return
    if "userId" not in message and "anonymousId" not in message:
        raise InvalidInput("either userId or anonymousId is required", field="userId")
    if message_type == "track":
        event = message.get("event")
        if not isinstance(event, str) or not event.strip():
            raise InvalidInput("a track message needs an event name", field="event")
        if len(event) > MAX_NAME_LENGTH:
            raise InvalidInput(f"event is longer than {MAX_NAME_LENGTH} characters", field="event")
    elif message_type == "group" and "groupId" not in message:
        raise InvalidInput("a group message needs groupId", field="groupId")
    elif message_type in ("page", "screen"):
        name = message.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME_LENGTH):
            raise InvalidInput(
                f"name must be a string of at most {MAX_NAME_LENGTH} characters", field="name"
            )


def _moment(message: Mapping[str, Any], field: str) -> dt.datetime | None:
    value = message.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be an ISO-8601 date and time", field=field)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{field} {value!r} is not an ISO-8601 date and time", field=field
        ) from None
    try:
        return utc_in_range(moment)
    except OutOfRange as error:
        raise InvalidInput(f"{field} {value!r} {error}", field=field) from None


def _corrected(
    timestamp: dt.datetime | None, sent_at: dt.datetime | None, received_at: dt.datetime
) -> dt.datetime:
    """When the event happened on the server's clock.

    The client's clock may be off: with ``sentAt`` (the client's time of sending) the skew is
    ``receivedAt - sentAt``, and the event time becomes ``timestamp + skew``.
    """
    if timestamp is None:
        return received_at
    if sent_at is None:
        return timestamp
    try:
        return shifted(received_at, timestamp - sent_at)
    except OutOfRange as error:
        raise InvalidInput(
            f"sentAt is so far from timestamp that the corrected time {error}", field="sentAt"
        ) from None


def iso(moment: dt.datetime) -> str:
    """``moment`` as the ISO text stored in messages (UTC, milliseconds, ``Z``)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> dt.datetime:
    """A stored ``timestamp``/``receivedAt`` back as an aware datetime."""
    return dt.datetime.fromisoformat(text)
