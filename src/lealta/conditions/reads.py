"""What a condition reads: which changes may flip it, and which parts of a contact view testing it
needs loaded. Both walk the tree's tests once (:func:`lealta.conditions.model.leaves`).

:func:`reads` says which events (by name, as the SQL compares them: ignoring case) and which
facts of a profile a condition looks at; :func:`changed_by` says what a tracked message may
change. A condition whose :class:`Reads` does not meet a batch's :class:`Reads` gives the same
answer for the batch's people before and after the batch, so the live path
(:mod:`lealta.audiences.live`) need not test it.

:func:`condition_needs` names the :data:`PARTS` of a contact view
(:mod:`lealta.conditions.views` loads them) a condition tests: ``tags``, ``lists``, ``score``,
``rfm`` (segment, cluster and scores), ``consent``, ``events``, ``points`` (the loyalty points
balance), ``orders``, ``audiences`` (the saved audiences the contact is in), ``prediction`` (the
latest predicted value) and ``next_best`` (the latest next-best suggestions). The contact row
itself (attributes, stage, time zone, loyalty tier, whether it still exists) is always loaded.
Pure: no database.

A kind this module does not know (one added later) reads *everything* and needs every part: a
condition holding it is always tested, so adding a kind can cost speed but never a missed move.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lealta.conditions.model import (
    MESSAGE_EVENTS,
    AttributeCondition,
    AudienceCondition,
    BoughtCondition,
    ClusterCondition,
    ConsentCondition,
    EventCountCondition,
    ListCondition,
    LoyaltyPointsCondition,
    LoyaltyTierCondition,
    MessageCondition,
    NextBestCondition,
    PredictionCondition,
    PurchasedSinceEntered,
    RfmCondition,
    ScoreCondition,
    SegmentCondition,
    StageCondition,
    TagCondition,
    leaves,
)
from lealta.events import catalog

# The facts of a profile, other than its events, that conditions read.
ATTRIBUTES = "attributes"
TAGS = "tags"
LISTS = "lists"
CONSENT = "consent"
STAGE = "stage"
SCORE = "score"
RFM = "rfm"  # segment and scores
CLUSTER = "cluster"
ORDERS = "orders"
LOYALTY = "loyalty"  # tier and points
PREDICTION = "prediction"  # P(alive), CLV and churn band of the latest clv run
NEXT_BEST = "next_best"  # the suggestions of the latest affinity run (no event moves them)
FACTS = frozenset(
    {
        ATTRIBUTES,
        TAGS,
        LISTS,
        CONSENT,
        STAGE,
        SCORE,
        RFM,
        CLUSTER,
        ORDERS,
        LOYALTY,
        PREDICTION,
        NEXT_BEST,
    }
)

_FACT_OF: dict[type, str] = {
    AttributeCondition: ATTRIBUTES,
    TagCondition: TAGS,
    ListCondition: LISTS,
    ConsentCondition: CONSENT,
    StageCondition: STAGE,
    ScoreCondition: SCORE,
    SegmentCondition: RFM,
    RfmCondition: RFM,
    ClusterCondition: CLUSTER,
    BoughtCondition: ORDERS,
    LoyaltyTierCondition: LOYALTY,
    LoyaltyPointsCondition: LOYALTY,
    PredictionCondition: PREDICTION,
    NextBestCondition: NEXT_BEST,
}


@dataclass(frozen=True)
class Reads:
    """Event names (lower case) and profile facts; ``everything``: all of them."""

    events: frozenset[str] = frozenset()
    facts: frozenset[str] = frozenset()
    everything: bool = False

    def __or__(self, other: Reads) -> Reads:
        if self.everything or other.everything:
            return EVERYTHING
        return Reads(self.events | other.events, self.facts | other.facts)

    def meets(self, other: Reads) -> bool:
        """Whether the two share an event or a fact (always, when either is everything)."""
        if self.everything or other.everything:
            return True
        return bool(self.events & other.events or self.facts & other.facts)


NOTHING = Reads()
EVERYTHING = Reads(everything=True)

Resolve = Callable[[str], Any]
"""The condition of a saved audience by name (None: there is no such audience)."""


def reads(condition: Any, resolve: Resolve | None = None) -> Reads:
    """What ``condition`` reads. ``audience`` conditions read what the named audience's
    condition reads (through ``resolve``, transitively); without ``resolve``, or for a name it
    does not know, or in a cycle, they read everything."""
    return _reads(condition, resolve, ())


def _reads(condition: Any, resolve: Resolve | None, seen: tuple[str, ...]) -> Reads:
    found = NOTHING
    for node in leaves(condition):
        found |= _leaf_reads(node, resolve, seen)
    return found


def _leaf_reads(node: Any, resolve: Resolve | None, seen: tuple[str, ...]) -> Reads:
    if isinstance(node, EventCountCondition):
        return Reads(events=frozenset({node.event.lower()}))
    if isinstance(node, MessageCondition):
        return Reads(events=frozenset({MESSAGE_EVENTS[node.action].lower()}))
    if isinstance(node, AudienceCondition):
        if resolve is None or node.audience in seen:
            return EVERYTHING
        referred = resolve(node.audience)
        if referred is None:
            return EVERYTHING
        return _reads(referred, resolve, (*seen, node.audience))
    if isinstance(node, PurchasedSinceEntered):
        return Reads(facts=frozenset({ORDERS}))
    fact = _FACT_OF.get(type(node))
    return EVERYTHING if fact is None else Reads(facts=frozenset({fact}))


PARTS = frozenset(
    {
        "tags",
        "lists",
        "score",
        "rfm",
        "consent",
        "events",
        "points",
        "orders",
        "audiences",
        "prediction",
        "next_best",
    }
)
_PARTS_OF: dict[type, frozenset[str]] = {
    AttributeCondition: frozenset(),
    StageCondition: frozenset(),
    TagCondition: frozenset({"tags"}),
    ListCondition: frozenset({"lists"}),
    ScoreCondition: frozenset({"score"}),
    SegmentCondition: frozenset({"rfm"}),
    ClusterCondition: frozenset({"rfm"}),
    ConsentCondition: frozenset({"consent"}),
    EventCountCondition: frozenset({"events"}),
    MessageCondition: frozenset({"events"}),
    PurchasedSinceEntered: frozenset({"events"}),
    LoyaltyTierCondition: frozenset(),  # the tier comes with the contact row
    LoyaltyPointsCondition: frozenset({"points"}),
    RfmCondition: frozenset({"rfm"}),
    BoughtCondition: frozenset({"orders"}),
    AudienceCondition: frozenset({"audiences"}),
    PredictionCondition: frozenset({"prediction"}),
    NextBestCondition: frozenset({"next_best"}),
}


def condition_needs(condition: Any) -> frozenset[str]:
    """The parts of a contact view ``condition`` (with its nested conditions) tests."""
    found: set[str] = set()
    for node in leaves(condition):
        found |= part_of(node)
    return frozenset(found)


def part_of(node: Any) -> frozenset[str]:
    """The parts one test needs (every part, for a kind this module does not know)."""
    return _PARTS_OF.get(type(node), PARTS)


# Any message may carry a consent decision and move the stage and the score (lifecycle and
# scoring rules read every event).
_ANY_MESSAGE = frozenset({CONSENT, STAGE, SCORE})
_BY_MEANING = {
    catalog.ORDER: frozenset({ORDERS, LOYALTY}),
    catalog.UNSUBSCRIBE: frozenset({LISTS}),
}
_EVENT_TYPES = {"track", "page", "screen"}


def changed_by(messages: Iterable[Mapping[str, Any]]) -> Reads:
    """What applying ``messages`` (normalised tracking messages) may change: the names of the
    events they record and the facts they may move. ``identify``, ``group``, ``alias`` and
    any other type may change every fact (traits, merges)."""
    names: set[str] = set()
    for message in messages:
        kind = message.get("type")
        if kind not in _EVENT_TYPES:
            return EVERYTHING
        name = message.get("event") if kind == "track" else message.get("name")
        names.add(str(name) if name else "")
    if not names:
        return NOTHING
    facts: set[str] = set(_ANY_MESSAGE)
    for name in names - {""}:  # each name once: a batch repeats a few names many times
        facts |= _BY_MEANING.get(catalog.meaning(name) or "", frozenset())
    return Reads(frozenset(name.lower() for name in names - {""}), frozenset(facts))
