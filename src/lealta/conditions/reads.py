"""What a condition reads: which changes may flip it, and which parts of a contact view testing it
needs loaded. Each walks the tree's tests once (:func:`lealta.conditions.model.leaves`).

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
:func:`events_counted` names the events a condition counts (a simulation loads only those).
One table (``_KINDS``) says what each kind reads. Pure: no database.

A kind this module does not know (one added later) reads *everything* and needs every part: a
condition holding it is always tested, so adding a kind can cost speed but never a missed move.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lealta.conditions import model
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


@dataclass(frozen=True)
class Kind:
    """What tests of one kind read: the profile fact (None: events, or another audience) and
    the parts of a contact view they need."""

    fact: str | None
    parts: frozenset[str] = frozenset()


_KINDS: dict[type, Kind] = {
    model.AttributeCondition: Kind(ATTRIBUTES),
    model.StageCondition: Kind(STAGE),
    model.TagCondition: Kind(TAGS, frozenset({"tags"})),
    model.ListCondition: Kind(LISTS, frozenset({"lists"})),
    model.ScoreCondition: Kind(SCORE, frozenset({"score"})),
    model.SegmentCondition: Kind(RFM, frozenset({"rfm"})),
    model.RfmCondition: Kind(RFM, frozenset({"rfm"})),
    model.ClusterCondition: Kind(CLUSTER, frozenset({"rfm"})),
    model.ConsentCondition: Kind(CONSENT, frozenset({"consent"})),
    model.EventCountCondition: Kind(None, frozenset({"events"})),
    model.MessageCondition: Kind(None, frozenset({"events"})),
    # "bought since the run entered" counts order events; a batch moves it as it moves orders
    model.PurchasedSinceEntered: Kind(ORDERS, frozenset({"events"})),
    model.LoyaltyTierCondition: Kind(LOYALTY),  # the tier comes with the contact row
    model.LoyaltyPointsCondition: Kind(LOYALTY, frozenset({"points"})),
    model.BoughtCondition: Kind(ORDERS, frozenset({"orders"})),
    model.AudienceCondition: Kind(None, frozenset({"audiences"})),
    model.PredictionCondition: Kind(PREDICTION, frozenset({"prediction"})),
    model.NextBestCondition: Kind(NEXT_BEST, frozenset({"next_best"})),
}
_UNKNOWN = Kind(None, PARTS)


def event_counted(node: Any) -> str | None:
    """The name of the events one test counts, as written (None: it counts none by name)."""
    if isinstance(node, model.EventCountCondition):
        return node.event
    if isinstance(node, model.MessageCondition):
        return model.MESSAGE_EVENTS[node.action]
    if isinstance(node, model.PurchasedSinceEntered):
        return model.ORDER_COMPLETED
    return None


def reads(condition: Any, resolve: Resolve | None = None) -> Reads:
    """What ``condition`` reads. ``audience`` conditions read what the named audience's
    condition reads (through ``resolve``, transitively); without ``resolve``, or for a name it
    does not know, or in a cycle, they read everything."""
    return _reads(condition, resolve, ())


def _reads(condition: Any, resolve: Resolve | None, seen: tuple[str, ...]) -> Reads:
    found = NOTHING
    for node in model.leaves(condition):
        found |= _leaf_reads(node, resolve, seen)
    return found


def _leaf_reads(node: Any, resolve: Resolve | None, seen: tuple[str, ...]) -> Reads:
    if isinstance(node, model.AudienceCondition):
        if resolve is None or node.audience in seen:
            return EVERYTHING
        referred = resolve(node.audience)
        if referred is None:
            return EVERYTHING
        return _reads(referred, resolve, (*seen, node.audience))
    fact = _KINDS.get(type(node), _UNKNOWN).fact
    if fact is not None:
        return Reads(facts=frozenset({fact}))
    name = event_counted(node)
    return EVERYTHING if name is None else Reads(events=frozenset({name.lower()}))


def condition_needs(condition: Any) -> frozenset[str]:
    """The parts of a contact view ``condition`` (with its nested conditions) tests."""
    found: set[str] = set()
    for node in model.leaves(condition):
        found |= part_of(node)
    return frozenset(found)


def part_of(node: Any) -> frozenset[str]:
    """The parts one test needs (every part, for a kind this module does not know)."""
    return _KINDS.get(type(node), _UNKNOWN).parts


def events_counted(condition: Any) -> frozenset[str] | None:
    """The names (as written) of the events ``condition``'s tests count; None when one of
    them may read any event (a kind this module does not know)."""
    names: set[str] = set()
    for node in model.leaves(condition):
        name = event_counted(node)
        if name is not None:
            names.add(name)
        elif "events" in part_of(node):
            return None
    return frozenset(names)


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
