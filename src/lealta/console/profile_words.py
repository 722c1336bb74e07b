"""The contact page's words: RFM in a sentence, segment moves, timeline notes, a message's
status and reactions, a voucher's value and state. Pure: values and ``now`` in, text out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from lealta.console.sparklines import long_date, short_date
from lealta.contacts.history import SegmentMove, SentMessage
from lealta.contacts.schemas import RfmOut, TimelineEntry
from lealta.contacts.timeline_kinds import EVENT_FAMILIES

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
CHANNELS = {
    "email": "E-mail",
    "sms": "SMS",
    "push": "App push",
    "web_push": "Web push",
    "ads": "Advertising",
}
# What came back from a message, in the order a person meets them.
REACTIONS = ("delivered", "opened", "clicked", "converted", "unsubscribed", "complained", "bounced")
_FAMILY_OF = {name: family for family, names in EVENT_FAMILIES.items() for name in names}


def amount(value: float | Decimal, currency: str | None) -> str:
    """``€412``, ``€412.50``, ``412 CHF``; without a currency just the number."""
    number = Decimal(str(value)).quantize(Decimal("0.01"))
    text = f"{number:,.0f}" if number == number.to_integral_value() else f"{number:,.2f}"
    if not currency:
        return text
    symbol = SYMBOLS.get(currency.upper())
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


def days_ago(days: int) -> str:
    """``today``, ``yesterday``, ``34 days ago``."""
    if days <= 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"


def rfm_sentence(rfm: RfmOut, currencies: Mapping[str, Any]) -> str:
    """``Last order 34 days ago, 5 orders, €412 spent`` (the figures the scores rest on; the
    amount has its currency when the person paid in one only)."""
    currency = next(iter(currencies)) if len(currencies) == 1 else None
    orders = f"{rfm.frequency} order" + ("" if rfm.frequency == 1 else "s")
    spent = amount(rfm.monetary, currency)
    return f"Last order {days_ago(rfm.recency_days)}, {orders}, {spent} spent"


def move_text(move: SegmentMove) -> str:
    """``At Risk → Champions``; ``Entered Champions``; ``Left At Risk``."""
    if move.from_segment and move.to_segment:
        return f"{move.from_segment} → {move.to_segment}"
    if move.to_segment:
        return f"Entered {move.to_segment}"
    return f"Left {move.from_segment or 'a segment'}"


def family(entry: TimelineEntry) -> str:
    """The badge of an entry: its kind, or for an event its family (message, segment …)."""
    if entry.kind != "event":
        return entry.kind
    return _FAMILY_OF.get(str(entry.details.get("name")), "event")


def entry_note(entry: TimelineEntry) -> tuple[str, str]:
    """What an entry's title leaves out (the tag, list, attribute, template, link …) and who
    did it (a console user's ``console:<e-mail>``; empty when no person did)."""
    if entry.kind == "consent":
        proof = entry.details.get("proof") or {}
        return "", str(proof.get("by") or "")
    if entry.kind != "event":
        return "", ""
    found: dict[str, Any] = entry.details.get("properties") or {}
    note = _event_note(found)
    by = str(found.get("by") or "")
    source = str(found.get("source") or "")
    if not by and source.startswith("console:"):
        by = source
    return note, by


def _event_note(found: Mapping[str, Any]) -> str:
    if found.get("tag"):
        return f"“{found['tag']}”"
    if found.get("list"):
        return f"“{found['list']}”"
    if found.get("attribute"):
        value = found.get("value")
        return (
            f"{found['attribute']} removed" if value is None else f"{found['attribute']} = {value}"
        )
    if found.get("template"):
        url = f" → {found['url']}" if found.get("url") else ""
        return f"{found['template']} ({found.get('channel', 'message')}){url}"
    if found.get("segment"):
        before = f" from {found['from']}" if found.get("from") else ""
        return f"{found['segment']}{before}"
    if found.get("code"):
        return f"voucher {found['code']}"
    return ""


def message_status(message: SentMessage, now: dt.datetime) -> str:
    """Where a message stands, in words: ``sent 3 Nov``, ``held until … : reason`` …"""
    if message.status == "sent" and message.sent_at:
        return f"sent {short_date(message.sent_at, now)}"
    if message.status == "held":
        why = f": {message.error}" if message.error else ""
        return f"held until {long_date(message.not_before)}{why}"
    if message.status in ("failed", "suppressed"):
        why = f": {message.error}" if message.error else ""
        return f"{message.status}{why}"
    if message.status == "pending" and message.not_before > now:
        return f"waiting until {long_date(message.not_before)}"
    return {"pending": "waiting to go out", "claimed": "going out", "sending": "going out"}.get(
        message.status, message.status
    )


def reaction_words(message: SentMessage, now: dt.datetime) -> list[str]:
    """``opened 3 times (first 3 Nov)``, ``clicked 3 Nov`` …, in the order people react."""
    words = []
    for kind in REACTIONS:
        found = message.reactions.get(kind)
        if found is None:
            continue
        times = f" {found.count} times" if found.count > 1 else ""
        first = "first " if found.count > 1 else ""
        words.append(f"{kind}{times} ({first}{short_date(found.first_at, now)})")
    return words


def voucher_value(kind: str, value: Decimal, currency: str | None) -> str:
    """``10% off``, ``€5 off``, ``free shipping``."""
    if kind == "percent":
        return f"{value.normalize():f}% off"
    if kind == "amount":
        return f"{amount(value, currency)} off"
    return "free shipping"


def voucher_state(
    expires_at: dt.datetime | None,
    redeemed_at: dt.datetime | None,
    redeemed_order: str | None,
    now: dt.datetime,
) -> tuple[str, str]:
    """(status, words): ``redeemed`` (when, which order), ``expired`` or ``valid`` (until)."""
    if redeemed_at is not None:
        return "redeemed", f"used {short_date(redeemed_at, now)} by order {redeemed_order}"
    if expires_at is not None and _utc(expires_at) <= _utc(now):
        return "expired", f"expired {short_date(expires_at, now)}"
    if expires_at is None:
        return "valid", "never expires"
    return "valid", f"until {short_date(expires_at, now)}"


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
