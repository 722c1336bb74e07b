"""Every table of the state store, imported in one place so the metadata is complete."""

from __future__ import annotations

from lealta.affinity.tables import ContactNextBest
from lealta.audiences.tables import Audience, AudienceMember, AudienceSize, AudienceVersion
from lealta.automations.tables import Run, RunStep, Workflow, WorkflowVersion
from lealta.channels.tables import MessageInteraction, OutboxMessage, PushDevice, Suppression
from lealta.contacts.tables import (
    AttributeDefinition,
    Consent,
    Contact,
    ContactList,
    ContactTag,
    Identifier,
    ListMembership,
)
from lealta.events.tables import Event
from lealta.feedback import rollup as _rollup  # noqa: F401 - registers message_days
from lealta.forms.tables import Form
from lealta.jobs.tables import Job
from lealta.keys.tables import ApiKey
from lealta.lifecycle.tables import StageChange
from lealta.loyalty.tables import (
    ContactTier,
    LoyaltyProgramVersion,
    PointsEntry,
    TierChange,
    TierOverride,
)
from lealta.messages.tables import MessageTemplate
from lealta.onsite.tables import OnsitePlacement
from lealta.orders.tables import Order
from lealta.prediction.tables import ContactPrediction
from lealta.retargeting.tables import AdSync
from lealta.rulesets.tables import RuleSet
from lealta.scoring.tables import ScoreChange
from lealta.segmentation.tables import ContactRfm
from lealta.storage.base import Base
from lealta.tracking.tables import InboxMessage
from lealta.users.tables import AuditEntry, ConsoleUser
from lealta.vouchers.tables import Voucher

__all__ = [
    "AdSync",
    "ApiKey",
    "AttributeDefinition",
    "Audience",
    "AudienceMember",
    "AudienceSize",
    "AudienceVersion",
    "AuditEntry",
    "Base",
    "Consent",
    "ConsoleUser",
    "Contact",
    "ContactList",
    "ContactNextBest",
    "ContactPrediction",
    "ContactRfm",
    "ContactTag",
    "ContactTier",
    "Event",
    "Form",
    "Identifier",
    "InboxMessage",
    "Job",
    "ListMembership",
    "LoyaltyProgramVersion",
    "MessageInteraction",
    "MessageTemplate",
    "OnsitePlacement",
    "Order",
    "OutboxMessage",
    "PointsEntry",
    "PushDevice",
    "RuleSet",
    "Run",
    "RunStep",
    "ScoreChange",
    "StageChange",
    "Suppression",
    "TierChange",
    "TierOverride",
    "Voucher",
    "Workflow",
    "WorkflowVersion",
]
