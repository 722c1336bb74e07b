"""Every table of the state store, imported in one place so the metadata is complete."""

from __future__ import annotations

from lealta.contacts.tables import Contact, Identifier
from lealta.events.tables import Event
from lealta.keys.tables import ApiKey
from lealta.orders.tables import Order
from lealta.storage.base import Base

__all__ = ["ApiKey", "Base", "Contact", "Event", "Identifier", "Order"]
