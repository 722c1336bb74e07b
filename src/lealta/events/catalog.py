"""The event names Lealta understands, and what each one means to a profile.

Names follow the Segment spec's wording; matching ignores case, spaces and underscores, so
``order_completed`` and ``Order Completed`` are the same event. Any other name is kept as a
custom event: it is stored, shown on the timeline, and usable in scoring, lifecycle and
segment rules like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

ORDER = "order"
UNSUBSCRIBE = "unsubscribe"
CART = "cart"
FORM = "form"
DOWNLOAD = "download"
EMAIL = "email"
WEBINAR = "webinar"
APP = "app"
STORE = "store"
PRODUCT = "product"
SIGNUP = "signup"
LOYALTY = "loyalty"  # made by Lealta's tier reviews (lealta.loyalty), not tracked
AUDIENCE = "audience"  # made by audience refreshes (lealta.audiences), not tracked
PREDICTION = "prediction"  # made by predicted-value runs (lealta.prediction), not tracked


@dataclass(frozen=True)
class KnownEvent:
    """A well-known event name and what it means."""

    name: str
    meaning: str
    effect: str


KNOWN = (
    KnownEvent(
        "Order Completed", ORDER, "Stores an order (order_id, total, products …); makes a Customer."
    ),
    KnownEvent(
        "Order Refunded",
        ORDER + "_refund",
        "Analytics and scoring; with order_id, takes back the loyalty points the order earned "
        "(its share when total is below the order's amount).",
    ),
    KnownEvent("Product Viewed", PRODUCT, "Scoring and segments."),
    KnownEvent("Product Added", CART, "Scoring and segments."),
    KnownEvent("Cart Viewed", CART, "Scoring and segments."),
    KnownEvent("Checkout Started", CART, "Starts the abandoned-cart clock for automations."),
    KnownEvent("Cart Abandoned", CART, "Scoring; abandoned-cart automations."),
    KnownEvent("Form Submitted", FORM, "Makes a Lead."),
    KnownEvent("Signed Up", SIGNUP, "Makes a Lead."),
    KnownEvent("Subscribed", SIGNUP, "Makes a Lead."),
    KnownEvent("File Downloaded", DOWNLOAD, "Scoring (e.g. a white paper download)."),
    KnownEvent("Email Delivered", EMAIL, "Channel feedback."),
    KnownEvent("Email Opened", EMAIL, "Channel feedback; scoring."),
    KnownEvent("Email Clicked", EMAIL, "Channel feedback; scoring."),
    KnownEvent("Email Bounced", EMAIL, "Channel feedback."),
    KnownEvent("Onsite Impression", "onsite", "An on-site placement was seen; scoring."),
    KnownEvent("Onsite Click", "onsite", "A link of an on-site placement was followed; scoring."),
    KnownEvent("SMS Delivered", "sms", "Channel feedback."),
    KnownEvent("SMS Clicked", "sms", "Channel feedback (a tracked link in a text)."),
    KnownEvent("SMS Bounced", "sms", "Channel feedback."),
    KnownEvent("SMS Opt-Out", "sms", "A STOP reply: SMS consent withdrawn, number suppressed."),
    KnownEvent("SMS Opt-In", "sms", "A START reply: SMS consent granted, suppression lifted."),
    KnownEvent("Push Delivered", "push", "Channel feedback."),
    KnownEvent("Push Opened", "push", "Channel feedback (the notification was tapped)."),
    KnownEvent("Push Clicked", "push", "Channel feedback (a tracked link in a notification)."),
    KnownEvent("Web Push Delivered", "push", "Channel feedback."),
    KnownEvent("Web Push Opened", "push", "Channel feedback (the notification was clicked)."),
    KnownEvent("Web Push Clicked", "push", "Channel feedback (a tracked link)."),
    KnownEvent("Complaint Received", "message", "A spam complaint; the address is suppressed."),
    KnownEvent("Message Converted", "message", "An order credited to a message (revenue)."),
    KnownEvent("Survey Answered", "survey", "An NPS score: score, category, survey."),
    KnownEvent("Survey Commented", "survey", "The comment left after a survey answer."),
    KnownEvent("Preferences Updated", "preferences", "Channels and lists chosen on the page."),
    KnownEvent(
        "Unsubscribed",
        UNSUBSCRIBE,
        "Withdraws consent for the channel (default email) and leaves the list named in 'list'.",
    ),
    KnownEvent("Webinar Registered", WEBINAR, "Makes a Lead."),
    KnownEvent("Webinar Attended", WEBINAR, "Scoring."),
    KnownEvent("App Opened", APP, "Activity; scoring."),
    KnownEvent("App Installed", APP, "Activity."),
    KnownEvent("Store Visited", STORE, "Activity in a physical store."),
    KnownEvent(
        "Loyalty Tier Upgraded", LOYALTY, "Made by a tier review or a decision: from, to, reason."
    ),
    KnownEvent(
        "Loyalty Tier Downgraded", LOYALTY, "Made by a tier review or a decision: from, to, reason."
    ),
    KnownEvent(
        "Loyalty Tier At Risk",
        LOYALTY,
        "Made once per fall by the review that finds a customer below their tier: tier, "
        "to_tier, drops_on, keep (words), keep_orders, keep_spend, keep_before.",
    ),
    KnownEvent(
        "Loyalty Points Earned",
        LOYALTY,
        "Made by the points sweep per credit (order, bonus event, adjustment): points, "
        "balance, kind, order_id, rule, reason, expires_on.",
    ),
    KnownEvent(
        "Loyalty Points Expiring",
        LOYALTY,
        "Made once per contact and expiry day, warn_days before: points, expires_on, "
        "days_left, balance.",
    ),
    KnownEvent(
        "Audience Entered",
        AUDIENCE,
        "Made by an audience refresh for each person who entered: audience, audience_id. "
        "A workflow trigger (type event, where audience equals the name).",
    ),
    KnownEvent(
        "Audience Exited",
        AUDIENCE,
        "Made by an audience refresh for each person who left: audience, audience_id.",
    ),
    KnownEvent(
        "Churn Risk Rose",
        PREDICTION,
        "Made by a predicted-value run (clv job, lealta clv --from-store --save) for each "
        "person whose P(alive) fell from at least the alert threshold (0.3) to under it: "
        "p_alive, previous, band, below. A workflow trigger for win-back.",
    ),
)

_BY_KEY = {"".join(k.name.lower().split()): k for k in KNOWN}


def _key(name: str) -> str:
    return "".join(name.lower().replace("_", " ").replace("-", " ").split())


def known(name: str | None) -> KnownEvent | None:
    """The well-known event ``name`` is, if any."""
    return _known(name) if name else None


@lru_cache(maxsize=4_096)  # the processor asks for every event; names are few
def _known(name: str) -> KnownEvent | None:
    return _BY_KEY.get(_key(name))


def meaning(name: str | None) -> str | None:
    """What ``name`` means (``ORDER``, ``UNSUBSCRIBE`` …), or ``None`` for a custom event."""
    found = known(name)
    return found.meaning if found else None


def canonical(name: str) -> str:
    """The spec's spelling of a well-known name; other names unchanged."""
    found = known(name)
    return found.name if found else name
