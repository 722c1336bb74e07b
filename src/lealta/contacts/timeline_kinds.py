"""What a timeline page can be limited to: an entry kind, or a family of events.

Entry kinds are those of ``TimelineEntry.kind``. A family names the events of one concern
(messages and what came back from them, segment moves, voucher redemptions, tag and list
changes); its entries are ``event`` entries. Workflow runs are not events (the timeline's
summary lists them), nor is the issue of a voucher (only its redemption is).
"""

from __future__ import annotations

from lealta.automations import signals, sweeps
from lealta.channels.dispatcher import EVENT_NAMES as SENDING_EVENTS
from lealta.errors import InvalidInput
from lealta.events import catalog
from lealta.feedback.service import CHANNEL_LABELS, event_name
from lealta.feedback.service import KINDS as INTERACTIONS
from lealta.vouchers.service import REDEEMED_EVENT

#: The kinds of entries, as ``TimelineEntry.kind`` says them.
KINDS = ("consent", "event", "order", "score", "stage")
LIST_LEFT = "List Left"
LIST_PENDING = "List Confirmation Pending"
ATTRIBUTE_CHANGED = "Attribute Changed"
#: Families of events a page can be limited to (their entries are of kind ``event``).
EVENT_FAMILIES: dict[str, tuple[str, ...]] = {
    "message": tuple(
        sorted(
            {
                *SENDING_EVENTS.values(),
                *(event_name(channel, kind) for channel in CHANNEL_LABELS for kind in INTERACTIONS),
                *(known.name for known in catalog.KNOWN if known.meaning in ("email", "sms")),
                "Survey Commented",
            }
        )
    ),
    "segment": (sweeps.ENTERED, sweeps.LEFT),
    "voucher": (REDEEMED_EVENT,),
    "tag": (signals.TAG_ADDED, signals.TAG_REMOVED),
    "list": (signals.LIST_JOINED, LIST_LEFT, LIST_PENDING),
}
FILTERS = (*KINDS, *EVENT_FAMILIES)


def check_kind(kind: str | None) -> str | None:
    """``kind`` when it is one of :data:`FILTERS` (or empty: everything); InvalidInput else."""
    if not kind:
        return None
    if kind not in FILTERS:
        raise InvalidInput(f"unknown kind {kind!r}; choose from {', '.join(FILTERS)}", field="kind")
    return kind
