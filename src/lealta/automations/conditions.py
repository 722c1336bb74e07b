"""Workflow conditions (``if`` steps, goals): the shared condition language of
:mod:`lealta.conditions`, named here for the automation code that imports it.

A workflow tests a condition inside a run, so :func:`lealta.conditions.evaluate` is given the
run's entry time (``entered_at``) there: ``since_entered``, ``message`` and
``purchased_since_entered`` count from it.
"""

from lealta.conditions import (
    MESSAGE_EVENTS,
    ORDER_COMPLETED,
    AllOf,
    AnyOf,
    AttributeCondition,
    AudienceCondition,
    BoughtCondition,
    ClusterCondition,
    ConditionSpec,
    ConsentCondition,
    ContactView,
    EventCountCondition,
    EventView,
    ListCondition,
    LoyaltyPointsCondition,
    LoyaltyTierCondition,
    MessageCondition,
    Not,
    OrderView,
    PurchasedSinceEntered,
    RfmCondition,
    ScoreCondition,
    SegmentCondition,
    StageCondition,
    TagCondition,
    evaluate,
    event_matches,
    unknown_tiers,
)

__all__ = [
    "MESSAGE_EVENTS",
    "ORDER_COMPLETED",
    "AllOf",
    "AnyOf",
    "AttributeCondition",
    "AudienceCondition",
    "BoughtCondition",
    "ClusterCondition",
    "ConditionSpec",
    "ConsentCondition",
    "ContactView",
    "EventCountCondition",
    "EventView",
    "ListCondition",
    "LoyaltyPointsCondition",
    "LoyaltyTierCondition",
    "MessageCondition",
    "Not",
    "OrderView",
    "PurchasedSinceEntered",
    "RfmCondition",
    "ScoreCondition",
    "SegmentCondition",
    "StageCondition",
    "TagCondition",
    "evaluate",
    "event_matches",
    "unknown_tiers",
]
