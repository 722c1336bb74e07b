"""Small builders shared by the automation tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lealta.automations.definition import WorkflowDefinition, load_definition
from lealta.conditions import ContactView, EventView

T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)  # a Monday


def workflow(*steps: dict[str, Any], **fields: Any) -> WorkflowDefinition:
    """A manual-trigger workflow with these steps (and any other fields)."""
    document: dict[str, Any] = {
        "id": "wf",
        "name": "Test workflow",
        "trigger": {"type": "manual"},
        "steps": list(steps),
        **fields,
    }
    return load_definition(document)


def contact(**fields: Any) -> ContactView:
    """A contact with id ``c1`` and the given fields."""
    return ContactView(**{"id": "c1", **fields})


def event(name: str, at: datetime, **properties: Any) -> EventView:
    """A ``track`` event."""
    return EventView(name, "track", at, properties)
