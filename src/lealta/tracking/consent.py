"""Consent carried by tracking messages (pure): what a site's consent banner collected.

Two places in a message may carry it:

* ``context.consent.categoryPreferences`` — Segment's consent context, a map of the banner's
  categories to ``true``/``false`` (``{"Email": true, "SMS": false}``). Categories become
  channels through a mapping (setting ``consent_categories``, :data:`DEFAULT_CATEGORIES` by
  default); category names are compared in lower case with spaces and hyphens as ``_``, and
  categories the mapping does not name (``Analytics``, ``Advertising`` …) are ignored. A
  banner's advertising category is not ``ads`` consent by default (it is usually about
  cookies, not about handing one's e-mail to an ad platform); a shop whose banner asks for
  exactly that maps it: ``{"advertising": ["ads"]}``.
* ``traits.consent`` (of an ``identify``, or ``context.traits`` of any message) — per channel,
  ``{"email": true, "sms": false}``; ``"granted"``, ``"denied"`` or ``"pending"`` also work.
  It is explicit, so it wins over a category for the same channel.

:func:`decisions` reads them; the processor records each one that changes the decision in
force, with source ``tracking``, the event's time and the message as proof.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Channel = Literal["email", "sms", "push", "web_push", "ads"]
CHANNELS: tuple[Channel, ...] = ("email", "sms", "push", "web_push", "ads")
DEFAULT_CATEGORIES: Mapping[str, tuple[Channel, ...]] = {
    "email": ("email",),
    "marketing_email": ("email",),
    "email_marketing": ("email",),
    "newsletter": ("email",),
    "sms": ("sms",),
    "marketing_sms": ("sms",),
    "sms_marketing": ("sms",),
    "push": ("push", "web_push"),
    "push_notifications": ("push", "web_push"),
    "web_push": ("web_push",),
}
"""Banner categories → channels, when the setting ``consent_categories`` is not given."""

_STATUS = {True: "granted", False: "denied"}
_SEPARATORS = re.compile(r"[\s\-]+")


@dataclass(frozen=True)
class Decision:
    """A consent decision for one channel and where in the message it was read."""

    channel: str
    status: str
    found_in: str


def category_key(name: str) -> str:
    """A category's name as the mapping knows it: ``"Marketing Email"`` → ``marketing_email``."""
    return _SEPARATORS.sub("_", name.strip().lower())


def decisions(
    message: Mapping[str, Any], categories: Mapping[str, Sequence[str]]
) -> tuple[list[Decision], list[str]]:
    """The consent decisions ``message`` carries, one per channel, and what was not understood.

    Categories first, then ``traits.consent`` overriding them channel by channel.
    """
    context = message.get("context")
    if type(context) is not dict:  # a parsed message's is: the abstract test costs more
        context = context if isinstance(context, Mapping) else {}
    if not _may_carry(message, context):
        return [], []
    found: dict[str, Decision] = {}
    problems: list[str] = []
    consent = context.get("consent")
    preferences = consent.get("categoryPreferences") if isinstance(consent, Mapping) else None
    if isinstance(preferences, Mapping):
        for original, value in preferences.items():
            channels = categories.get(category_key(str(original)), ())
            where = f"context.consent.categoryPreferences.{original}"
            if channels and not isinstance(value, bool):
                problems.append(where)
                continue
            for channel in channels:
                found[channel] = Decision(channel, _STATUS[value], where)
    for where, traits in _traits(message, context):
        given = traits.get("consent")
        if not isinstance(given, Mapping):
            continue
        for channel, value in given.items():
            status = _status(value)
            if channel not in CHANNELS or status is None:
                problems.append(f"{where}.consent.{channel}")
                continue
            found[channel] = Decision(channel, status, f"{where}.consent.{channel}")
    return list(found.values()), problems


def _may_carry(message: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    """Whether ``message`` has a place consent can be in (most events have none): a quick
    test before the full reading."""
    if "consent" in context:
        return True
    traits = context.get("traits")
    if traits is not None and isinstance(traits, Mapping) and "consent" in traits:
        return True
    if message.get("type") != "identify":
        return False
    traits = message.get("traits")
    return isinstance(traits, Mapping) and "consent" in traits


def _traits(
    message: Mapping[str, Any], context: Mapping[str, Any]
) -> list[tuple[str, Mapping[str, Any]]]:
    found: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(context.get("traits"), Mapping):
        found.append(("context.traits", context["traits"]))
    if message.get("type") == "identify" and isinstance(message.get("traits"), Mapping):
        found.append(("traits", message["traits"]))
    return found


def _status(value: Any) -> str | None:
    if isinstance(value, bool):
        return _STATUS[value]
    if value in ("granted", "denied", "pending"):
        return str(value)
    return None
