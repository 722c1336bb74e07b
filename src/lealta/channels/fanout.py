"""What the two push channels share: one message to each of a person's devices.

A push message goes to every valid device of the contact (and of the profiles merged into
it). Each device ends ``sent``, ``gone`` (the provider says the token no longer exists: the
device is pruned), ``retry`` (worth trying later) or ``rejected`` (the provider refuses this
message). The message as a whole, decided by :func:`settle`:

* sent to at least one device → delivered; the provider id lists each device's message id.
  A device that failed meanwhile is not retried, or the others would get it twice.
* otherwise any ``retry`` → :class:`TransientChannelError` (no device got it yet);
* otherwise any ``rejected`` → :class:`PermanentChannelError`;
* no device at all, or all of them gone → :class:`PermanentChannelError`.

Push providers take no idempotency key, so :class:`SentKeys` remembers the keys this process
delivered: a repeat within the process is answered with the first provider id. Across a crash
the repeat is collapsed by the provider instead (Web Push ``Topic``, FCM ``collapse_key`` and
``apns-collapse-id``, the notification ``tag``), all derived from the idempotency key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.orm import Session

from lealta.channels import devices
from lealta.channels.base import Delivery
from lealta.channels.jws import b64url
from lealta.contacts.service import person_ids
from lealta.errors import PermanentChannelError, TransientChannelError
from lealta.storage.retry import in_transaction
from lealta.storage.unit_of_work import UnitOfWork

MAX_PROVIDER_ID = 200
URGENCIES = ("very-low", "low", "normal", "high")
DEFAULT_TTL = 24 * 3600
MAX_TTL = 28 * 24 * 3600


@dataclass(frozen=True)
class Target:
    """One device to send to (a plain copy of its row, safe outside the transaction)."""

    device_id: int
    token: str
    token_hash: str
    subscription: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """How one device's send ended, with the provider's message id or the reason."""

    status: Literal["sent", "gone", "retry", "rejected"]
    detail: str


def targets(uow: UnitOfWork, contact_id: str, kind: str) -> list[Target]:
    """The valid devices of ``kind`` of the person ``contact_id`` is (merged profiles too)."""

    def read(session: Session) -> list[Target]:
        found = devices.active_for(session, person_ids(session, contact_id), kind)
        rows = sorted((d for group in found.values() for d in group), key=lambda d: d.id)
        return [Target(d.id, d.token, d.token_hash, dict(d.subscription or {})) for d in rows]

    return in_transaction(uow, read)


def settle(
    uow: UnitOfWork,
    results: Sequence[tuple[Target, Outcome]],
    now: dt.datetime,
    *,
    what: str,
) -> str:
    """Prune the devices that are gone and decide the message (see the module docstring)."""
    gone = [target.token_hash for target, outcome in results if outcome.status == "gone"]
    if gone:
        in_transaction(uow, lambda session: [devices.mark_invalid(session, h, now) for h in gone])
    sent = [outcome.detail for _, outcome in results if outcome.status == "sent"]
    if sent:
        return provider_id(sent)
    for wanted, error in (("retry", TransientChannelError), ("rejected", PermanentChannelError)):
        reasons = [outcome.detail for _, outcome in results if outcome.status == wanted]
        if reasons:
            raise error(_summary(reasons))
    if not results:
        raise PermanentChannelError(f"the contact has no active {what}")
    raise PermanentChannelError(
        f"every {what} of the contact is gone ({len(gone)} pruned): "
        + _summary([outcome.detail for _, outcome in results])
    )


def provider_id(ids: Sequence[str]) -> str:
    """The devices' message ids joined by spaces, cut to fit the outbox column."""
    joined = " ".join(ids)
    if len(joined) <= MAX_PROVIDER_ID:
        return joined
    suffix = f" +{len(ids)}"
    return joined[: MAX_PROVIDER_ID - len(suffix)].rstrip() + suffix


def _summary(reasons: Sequence[str]) -> str:
    first = reasons[0]
    return first if len(reasons) == 1 else f"{first} (and {len(reasons) - 1} more devices)"


class SentKeys:
    """Idempotency keys delivered by this process and their provider ids (the newest kept)."""

    def __init__(self, size: int = 50_000) -> None:
        self._size = size
        self._ids: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        """The provider id ``key`` was delivered with, if this process remembers it."""
        with self._lock:
            return self._ids.get(key)

    def put(self, key: str, provider: str) -> None:
        """Remember a delivery."""
        with self._lock:
            self._ids[key] = provider
            self._ids.move_to_end(key)
            while len(self._ids) > self._size:
                self._ids.popitem(last=False)


# -- the message parts -----------------------------------------------------------------------


def parts(delivery: Delivery) -> dict[str, Any]:
    """The rendered push parts (``title``, ``body``, ``url``, ``icon``, ``image``, ``data``
    …): ``delivery.content``, or the outbox payload when no template was rendered."""
    return dict(delivery.content or delivery.payload or {})


def option(delivery: Delivery, name: str) -> Any:
    """A sending option (``ttl``, ``urgency``, ``topic``) from the content, else the payload."""
    for source in (delivery.content, delivery.payload):
        if source and source.get(name) not in (None, ""):
            return source[name]
    return None


def ttl_of(delivery: Delivery) -> int:
    """Seconds the provider may keep the message for an offline device (default one day)."""
    value = option(delivery, "ttl")
    try:
        seconds = DEFAULT_TTL if value is None else int(value)
    except (TypeError, ValueError):
        raise PermanentChannelError(f"ttl must be a number of seconds, not {value!r}") from None
    return max(0, min(seconds, MAX_TTL))


def urgency_of(delivery: Delivery) -> str:
    """``very-low``, ``low``, ``normal`` (default) or ``high``."""
    value = str(option(delivery, "urgency") or "normal")
    if value not in URGENCIES:
        raise PermanentChannelError(f"urgency must be one of {', '.join(URGENCIES)}")
    return value


def collapse_key(delivery: Delivery) -> str:
    """32 base64url characters naming the message for the provider (RFC 8030 ``Topic``):
    the ``topic`` option when valid, else derived from the idempotency key, so a message
    sent twice after a crash replaces itself while still undelivered."""
    topic = option(delivery, "topic")
    if isinstance(topic, str) and 0 < len(topic) <= 32 and b64url_alphabet(topic):
        return topic
    seed = str(topic) if topic else delivery.idempotency_key
    return b64url(hashlib.sha256(seed.encode()).digest())[:32]


def b64url_alphabet(text: str) -> bool:
    """True when ``text`` uses only the base64url alphabet."""
    return all(c.isascii() and (c.isalnum() or c in "-_") for c in text)


def notice(delivery: Delivery) -> dict[str, Any]:
    """The notification shown: ``title``, ``body``, optional ``icon``, ``image``, ``badge``,
    ``url`` and ``tag``, and ``data`` (with ``outbox_id``). Permanent error when it has
    neither title nor body."""
    given = parts(delivery)
    shown: dict[str, Any] = {
        name: str(given[name])
        for name in ("title", "body", "icon", "image", "badge", "url", "tag")
        if given.get(name) not in (None, "")
    }
    for name in ("image", "badge", "tag"):  # not template parts: the outbox payload may say
        if name not in shown and option(delivery, name) not in (None, ""):
            shown[name] = str(option(delivery, name))
    if "title" not in shown and "body" not in shown:
        raise PermanentChannelError("the push message has neither a title nor a body")
    data = given.get("data")
    shown["data"] = {**(data if isinstance(data, Mapping) else {}), "outbox_id": delivery.outbox_id}
    shown.setdefault("tag", f"lealta-{delivery.outbox_id}")
    return shown
