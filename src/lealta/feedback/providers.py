"""Reading the bounce, complaint and delivery webhooks of e-mail providers into one shape. Pure.

Each format gives :class:`FeedbackEvent` values (:func:`parse`; :func:`detect` tells the format):

* ``generic``: ``{"type": "bounce"|"complaint"|"delivery", "email", "bounce_type":
  "hard"|"soft", "message_id"?, "reason"?, "occurred_at"?, "id"?, "outbox_id"?}``, or a list of
  them (``bounce_type`` only for a bounce). Without ``id`` the event id derives from type,
  address, time and message id; for a delivery, from address, message id and outbox id only
  (a message is delivered once, and a replay without ``occurred_at`` has another time).
* ``ses``: Amazon SES ``Bounce``/``Complaint``/``Delivery`` notifications (``notificationType``,
  or ``eventType`` from event publishing), inside an Amazon SNS envelope (``{"Type":
  "Notification", "Message": "<json>"}``) or bare. ``bounceType: Permanent`` is hard,
  ``Transient`` and ``Undetermined`` soft; a delivery is one event per ``delivery.recipients``
  entry. An SNS ``SubscriptionConfirmation`` is not fetched: its ``SubscribeURL`` is handed
  back for a person to open.
* ``sendgrid``: the Event Webhook's array; ``bounce`` (``type: blocked`` is soft),
  ``dropped`` (``Bounced Address``/``Invalid`` hard, ``Spam Reporting Address`` a complaint),
  ``spamreport`` and ``delivered``.
* ``mailgun``: ``{"signature", "event-data"}``; ``failed`` with ``severity`` ``permanent``
  (hard) or ``temporary`` (soft), ``complained`` and ``delivered``.
* ``postmark``: the Bounce (``RecordType: Bounce``; ``HardBounce``, ``BadEmailAddress`` and
  ``ManuallyDeactivated`` hard, ``SoftBounce``, ``Transient``, ``DnsError``, ``Blocked`` …
  soft), Spam Complaint and Delivery (``Recipient``, ``DeliveredAt``) webhooks.

Events of other kinds (opens, clicks, deferrals, SendGrid's ``processed``, unsubscribes,
auto-replies) are counted as ignored, as are provider events naming no valid address. A body in
none of these shapes, or missing what its format requires, is refused with
:class:`~lealta.errors.InvalidInput` naming the field.

Each event carries the ids that may name the message: the ``Message-ID`` header Lealta set (no
angle brackets), the provider's own id, and the outbox id from the ``X-Lealta-Message`` header
(SES echoes headers) or a ``lealta_message`` custom argument, user variable or metadata entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lealta.errors import InvalidInput
from lealta.identity.normalize import normalize_email

PROVIDERS = ("generic", "ses", "sendgrid", "mailgun", "postmark")
HEADER = "x-lealta-message"
CUSTOM_ARG = "lealta_message"
_KEY_ROOM = 100  # dedupe keys also name events (128 characters at most)


@dataclass(frozen=True)
class FeedbackEvent:
    """One bounce, complaint or delivery about one address, in Lealta's words."""

    provider: str
    event_id: str
    kind: str  # "bounce" | "complaint" | "delivery"
    email: str
    bounce_type: str | None  # "hard" | "soft" for bounces, None for the others
    occurred_at: dt.datetime
    reason: str = ""
    message_ids: tuple[str, ...] = ()
    outbox_id: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        """``fb:<provider>:<event id>``, hashed when long; the same for every replay."""
        key = f"fb:{self.provider}:{self.event_id}"
        if len(key) <= _KEY_ROOM:
            return key
        return f"fb:{self.provider}:{hashlib.sha256(self.event_id.encode()).hexdigest()[:40]}"


@dataclass(frozen=True)
class Parsed:
    """What a webhook body said: the events, how many others were ignored, and for an SNS
    subscription the URL that confirms it."""

    provider: str
    events: tuple[FeedbackEvent, ...] = ()
    ignored: int = 0
    subscribe_url: str | None = None


# -- parsing (pure) --------------------------------------------------------------------------


def parse(document: Any, *, now: dt.datetime, provider: str | None = None) -> Parsed:
    """The events in a webhook body (already decoded from JSON); ``provider`` forces a format."""
    chosen = provider or detect(document)
    if chosen not in PROVIDERS:
        raise InvalidInput(
            f"unknown provider {chosen!r}; choose from {', '.join(PROVIDERS)}", field="provider"
        )
    parser = {
        "generic": _generic,
        "ses": _ses,
        "sendgrid": _sendgrid,
        "mailgun": _mailgun,
        "postmark": _postmark,
    }[chosen]
    return parser(document, now)


def detect(document: Any) -> str:
    """Which provider's format ``document`` is in; ``InvalidInput`` (field ``body``) if none."""
    if isinstance(document, list):
        first = document[0] if document else None
        if isinstance(first, Mapping) and "event" in first:
            return "sendgrid"
        if isinstance(first, Mapping) and "type" in first:
            return "generic"
    elif isinstance(document, Mapping):
        if "TopicArn" in document or "notificationType" in document or "eventType" in document:
            return "ses"
        if "event-data" in document:
            return "mailgun"
        if "RecordType" in document:
            return "postmark"
        if "type" in document and "email" in document:
            return "generic"
    raise InvalidInput(
        "unrecognised feedback format: expected the generic JSON ({type, email, bounce_type, "
        "…}), an Amazon SNS/SES notification, a SendGrid event array, a Mailgun "
        "{signature, event-data} body or a Postmark Bounce/SpamComplaint/Delivery webhook; "
        + _shape(document),
        field="body",
    )


def _shape(document: Any) -> str:
    if isinstance(document, Mapping):
        keys = ", ".join(sorted(str(k) for k in document)[:8]) or "none"
        return f"got an object with keys {keys}"
    if isinstance(document, list):
        return "got an empty array" if not document else "got an array of something else"
    return f"got a JSON {type(document).__name__}"


class _Generic(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    type: str = Field(pattern="^(bounce|complaint|delivery)$")
    email: str = Field(min_length=3, max_length=320)
    bounce_type: str | None = Field(None, pattern="^(hard|soft)$")
    message_id: str | None = Field(None, max_length=998)
    reason: str = Field("", max_length=2000)
    occurred_at: dt.datetime | None = None
    id: str | None = Field(None, min_length=1, max_length=200)
    outbox_id: int | None = None


def _generic(document: Any, now: dt.datetime) -> Parsed:
    items = document if isinstance(document, list) else [document]
    events = []
    for index, item in enumerate(items):
        where = f"[{index}]" if isinstance(document, list) else ""
        try:
            entry = _Generic.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = where + ".".join(str(p) for p in first["loc"])
            raise InvalidInput(f"{name}: {first['msg']}", field=name or "body") from None
        if entry.type == "bounce" and entry.bounce_type is None:
            raise InvalidInput(
                "bounce_type (hard or soft) is required for a bounce", field=f"{where}bounce_type"
            )
        email = normalize_email(entry.email)
        occurred = _aware(entry.occurred_at) if entry.occurred_at else now
        message_ids = _ids(entry.message_id)
        if entry.type == "delivery":
            names = (*message_ids, str(entry.outbox_id or ""))
        else:
            names = (occurred.isoformat(), *message_ids)
        event_id = entry.id or _digest(entry.type, email, *names)
        events.append(
            FeedbackEvent(
                provider="generic",
                event_id=event_id,
                kind=entry.type,
                email=email,
                bounce_type=entry.bounce_type if entry.type == "bounce" else None,
                occurred_at=occurred,
                reason=entry.reason,
                message_ids=message_ids,
                outbox_id=entry.outbox_id,
            )
        )
    return Parsed("generic", tuple(events))


def _ses(document: Any, now: dt.datetime) -> Parsed:
    envelope = _mapping(document, "body")
    kind = envelope.get("Type")
    if kind == "SubscriptionConfirmation":
        url = _text(envelope, "SubscribeURL", "")
        return Parsed("ses", subscribe_url=url)
    if kind == "UnsubscribeConfirmation":
        return Parsed("ses", ignored=1)
    if kind == "Notification":
        raw = _text(envelope, "Message", "")
        try:
            inner = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise InvalidInput("Message is not a JSON SES notification", field="Message") from None
        return _ses_notification(_mapping(inner, "Message"), "Message.")
    if kind is not None:
        raise InvalidInput(f"unknown SNS message Type {kind!r}", field="Type")
    return _ses_notification(envelope, "")


def _ses_notification(note: Mapping[str, Any], where: str) -> Parsed:
    kind = note.get("notificationType") or note.get("eventType")
    if kind not in ("Bounce", "Complaint", "Delivery"):
        if kind is None:
            raise InvalidInput("notificationType is missing", field=f"{where}notificationType")
        return Parsed("ses", ignored=1)
    mail = _mapping(note.get("mail"), f"{where}mail")
    common = _sub(mail, "commonHeaders")
    message_ids = _ids(common.get("messageId"), mail.get("messageId"))
    headers = {
        str(h.get("name", "")).lower(): h.get("value")
        for h in mail.get("headers") or ()
        if isinstance(h, Mapping)
    }
    outbox_id = _int(headers.get(HEADER))
    if kind == "Delivery":
        return _ses_delivery(note, mail, where, message_ids, outbox_id)
    if kind == "Bounce":
        body = _mapping(note.get("bounce"), f"{where}bounce")
        recipients, list_name = body.get("bouncedRecipients"), "bouncedRecipients"
        hard = body.get("bounceType") == "Permanent"
        summary = f"{body.get('bounceType')}/{body.get('bounceSubType')}"
    else:
        body = _mapping(note.get("complaint"), f"{where}complaint")
        recipients, list_name = body.get("complainedRecipients"), "complainedRecipients"
        hard = False
        summary = str(body.get("complaintFeedbackType") or "complaint")
    if not isinstance(recipients, list):
        raise InvalidInput(
            f"{list_name} must be a list", field=f"{where}{kind.lower()}.{list_name}"
        )
    feedback_id = _text(body, "feedbackId", f"{where}{kind.lower()}.")
    occurred = _when(body.get("timestamp"), f"{where}{kind.lower()}.timestamp")
    events, ignored = [], 0
    for recipient in recipients:
        email = _email(recipient.get("emailAddress") if isinstance(recipient, Mapping) else None)
        if email is None:
            ignored += 1
            continue
        events.append(
            FeedbackEvent(
                provider="ses",
                event_id=f"{feedback_id}:{email}",
                kind="bounce" if kind == "Bounce" else "complaint",
                email=email,
                bounce_type=("hard" if hard else "soft") if kind == "Bounce" else None,
                occurred_at=occurred,
                reason=str(recipient.get("diagnosticCode") or summary),
                message_ids=message_ids,
                outbox_id=outbox_id,
                details={"status": recipient.get("status"), "type": summary},
            )
        )
    return Parsed("ses", tuple(events), ignored)


def _ses_delivery(
    note: Mapping[str, Any],
    mail: Mapping[str, Any],
    where: str,
    message_ids: tuple[str, ...],
    outbox_id: int | None,
) -> Parsed:
    """One delivery per recipient; SES's message id and the address make the event id."""
    body = _mapping(note.get("delivery"), f"{where}delivery")
    recipients = body.get("recipients")
    if not isinstance(recipients, list):
        raise InvalidInput("recipients must be a list", field=f"{where}delivery.recipients")
    ses_id = _text(mail, "messageId", f"{where}mail.")
    occurred = _when(body.get("timestamp"), f"{where}delivery.timestamp")
    emails = [_email(recipient) for recipient in recipients]
    events = tuple(
        FeedbackEvent(
            provider="ses",
            event_id=f"delivery:{ses_id}:{email}",
            kind="delivery",
            email=email,
            bounce_type=None,
            occurred_at=occurred,
            message_ids=message_ids,
            outbox_id=outbox_id,
            details={"response": body.get("smtpResponse")},
        )
        for email in emails
        if email is not None
    )
    return Parsed("ses", events, len(emails) - len(events))


_SENDGRID_DROPPED: dict[str, tuple[str, str | None]] = {
    "Bounced Address": ("bounce", "hard"),
    "Invalid": ("bounce", "hard"),
    "Spam Reporting Address": ("complaint", None),
}


def _sendgrid(document: Any, now: dt.datetime) -> Parsed:
    if not isinstance(document, list):
        raise InvalidInput("a SendGrid webhook body is an array of events", field="body")
    events, ignored = [], 0
    for index, item in enumerate(document):
        entry = _mapping(item, f"[{index}]")
        name = entry.get("event")
        bounce: str | None
        if name == "bounce":
            kind, bounce = "bounce", "soft" if entry.get("type") == "blocked" else "hard"
        elif name == "dropped" and entry.get("reason") in _SENDGRID_DROPPED:
            kind, bounce = _SENDGRID_DROPPED[str(entry["reason"])]
        elif name == "spamreport":
            kind, bounce = "complaint", None
        elif name == "delivered":
            kind, bounce = "delivery", None
        else:
            ignored += 1
            continue
        email = _email(entry.get("email"))
        if email is None:
            ignored += 1
            continue
        occurred = _when(entry.get("timestamp"), f"[{index}].timestamp")
        sg_id = str(entry.get("sg_message_id") or "")
        event_id = str(
            entry.get("sg_event_id") or _digest(str(name), email, occurred.isoformat(), sg_id)
        )
        events.append(
            FeedbackEvent(
                provider="sendgrid",
                event_id=event_id,
                kind=kind,
                email=email,
                bounce_type=bounce,
                occurred_at=occurred,
                reason=str(entry.get("reason") or name),
                message_ids=_ids(entry.get("smtp-id"), sg_id.split(".filter")[0], sg_id),
                outbox_id=_int(entry.get(CUSTOM_ARG)),
                details={
                    "event": name,
                    "status": entry.get("status"),
                    "response": entry.get("response"),
                },
            )
        )
    return Parsed("sendgrid", tuple(events), ignored)


def _mailgun(document: Any, now: dt.datetime) -> Parsed:
    data = _mapping(_mapping(document, "body").get("event-data"), "event-data")
    name = data.get("event")
    bounce: str | None
    if name == "failed":
        severity = data.get("severity")
        if severity not in ("permanent", "temporary"):
            raise InvalidInput(
                "severity must be permanent or temporary", field="event-data.severity"
            )
        kind, bounce = "bounce", "hard" if severity == "permanent" else "soft"
    elif name == "complained":
        kind, bounce = "complaint", None
    elif name == "delivered":
        kind, bounce = "delivery", None
    else:
        return Parsed("mailgun", ignored=1)
    email = _email(data.get("recipient"))
    if email is None:
        raise InvalidInput("recipient is not an e-mail address", field="event-data.recipient")
    occurred = _when(data.get("timestamp"), "event-data.timestamp")
    headers = _sub(_sub(data, "message"), "headers")
    status = _sub(data, "delivery-status")
    variables = _sub(data, "user-variables")
    event_id = f"{_text(data, 'id', 'event-data.')}:{data.get('timestamp')}"
    reason = status.get("description") or status.get("message") or data.get("reason") or name
    event = FeedbackEvent(
        provider="mailgun",
        event_id=event_id,
        kind=kind,
        email=email,
        bounce_type=bounce,
        occurred_at=occurred,
        reason=str(reason),
        message_ids=_ids(headers.get("message-id")),
        outbox_id=_int(variables.get(CUSTOM_ARG)),
        details={"event": name, "status": status.get("code"), "severity": data.get("severity")},
    )
    return Parsed("mailgun", (event,))


_POSTMARK_HARD = frozenset({"HardBounce", "BadEmailAddress", "ManuallyDeactivated"})
_POSTMARK_SOFT = frozenset(
    {"SoftBounce", "Transient", "DnsError", "SpamNotification", "Blocked", "DMARCPolicy"}
)


def _postmark(document: Any, now: dt.datetime) -> Parsed:
    record_ = _mapping(document, "body")
    record_type = record_.get("RecordType")
    kind_name = str(record_.get("Type") or "")
    bounce: str | None
    if record_type == "Delivery":
        return _postmark_delivery(record_)
    if record_type == "SpamComplaint":
        kind, bounce = "complaint", None
    elif record_type == "Bounce" and kind_name in _POSTMARK_HARD | _POSTMARK_SOFT:
        kind, bounce = "bounce", "hard" if kind_name in _POSTMARK_HARD else "soft"
    else:
        return Parsed("postmark", ignored=1)
    email = _email(record_.get("Email"))
    if email is None:
        raise InvalidInput("Email is not an e-mail address", field="Email")
    metadata = _sub(record_, "Metadata")
    outbox = metadata.get(CUSTOM_ARG) or metadata.get("X-Lealta-Message")
    event = FeedbackEvent(
        provider="postmark",
        event_id=f"{record_type}:{_text(record_, 'ID', '')}",
        kind=kind,
        email=email,
        bounce_type=bounce,
        occurred_at=_when(record_.get("BouncedAt"), "BouncedAt"),
        reason=str(record_.get("Details") or record_.get("Description") or kind_name),
        message_ids=_ids(record_.get("MessageID")),
        outbox_id=_int(outbox),
        details={"type": kind_name, "type_code": record_.get("TypeCode")},
    )
    return Parsed("postmark", (event,))


def _postmark_delivery(record_: Mapping[str, Any]) -> Parsed:
    """A Delivery has no id of its own: one per message and recipient, which name it."""
    email = _email(record_.get("Recipient"))
    if email is None:
        raise InvalidInput("Recipient is not an e-mail address", field="Recipient")
    metadata = _sub(record_, "Metadata")
    outbox = metadata.get(CUSTOM_ARG) or metadata.get("X-Lealta-Message")
    event = FeedbackEvent(
        provider="postmark",
        event_id=f"Delivery:{_text(record_, 'MessageID', '')}:{email}",
        kind="delivery",
        email=email,
        bounce_type=None,
        occurred_at=_when(record_.get("DeliveredAt"), "DeliveredAt"),
        message_ids=_ids(record_.get("MessageID")),
        outbox_id=_int(outbox),
        details={"response": record_.get("Details")},
    )
    return Parsed("postmark", (event,))


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{where} must be a JSON object", field=where)
    return value


def _sub(mapping: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``mapping[key]`` when it is an object, else an empty one (optional parts)."""
    value = mapping.get(key)
    return value if isinstance(value, Mapping) else {}


def _text(mapping: Mapping[str, Any], key: str, where: str) -> str:
    value = mapping.get(key)
    if value is None or value == "" or isinstance(value, Mapping | list):
        raise InvalidInput(f"{where}{key} is missing", field=f"{where}{key}")
    return str(value)


def _when(value: Any, where: str) -> dt.datetime:
    """A provider's time: ISO 8601 text or epoch seconds (int, float or digits)."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return dt.datetime.fromtimestamp(float(value), dt.UTC)
        if isinstance(value, str) and value.replace(".", "", 1).isdigit():
            return dt.datetime.fromtimestamp(float(value), dt.UTC)
        if isinstance(value, str):
            return _aware(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (ValueError, OverflowError, OSError):
        pass
    raise InvalidInput(f"{where} is not a time: {value!r}", field=where)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _email(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return normalize_email(value)
    except InvalidInput:
        return None


def _ids(*values: Any) -> tuple[str, ...]:
    """Message ids without angle brackets, once each, in order."""
    found: list[str] = []
    for value in values:
        if isinstance(value, str):
            bare = value.strip().strip("<>").strip()
            if bare and bare not in found:
                found.append(bare)
    return tuple(found)


def _int(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() and len(text) < 19 else None


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
