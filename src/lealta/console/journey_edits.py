"""Saving a journey edited in the console: through the same service as ``POST /v1/automations``
(a new version; runs under way stay on theirs), checked against the version the editor started
from, and written to the audit log with who did it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lealta.automations import service
from lealta.automations.definition import WorkflowDefinition, dump
from lealta.automations.service import Saved
from lealta.bootstrap import Services
from lealta.console.auth import SignedIn
from lealta.console.edits import audit
from lealta.errors import Conflict
from lealta.messages import service as messages
from lealta.storage.retry import in_transaction


@dataclass(frozen=True)
class Journey:
    """What the editor starts from: the latest version and the templates a send may use."""

    workflow_id: str
    name: str
    status: str
    version: int
    definition: WorkflowDefinition
    templates: list[str]

    @property
    def document(self) -> dict[str, Any]:
        """The definition as data, the editor's first draft."""
        return dump(self.definition)


def load(services: Services, workflow_id: str) -> Journey:
    """The journey's latest version (``NotFound`` when there is no such journey)."""
    with services.uow.transaction() as session:
        workflow = service.get(session, workflow_id)
        rules = service.definition(session, workflow_id)
        templates = [template.id for template in messages.list_(session)]
        return Journey(
            workflow.id, workflow.name, workflow.status, workflow.current_version, rules, templates
        )


def save_journey(
    services: Services,
    user: SignedIn,
    workflow_id: str,
    document: Mapping[str, Any],
    *,
    base_version: int,
    via: str,
) -> Saved:
    """Save ``document`` as the journey's next version, audited.

    Raises
    ------
    Conflict
        When someone saved a version after ``base_version``: the editor would overwrite it.
    InvalidInput
        When the document is not a valid definition of this journey.
    """
    now = services.clock.now()
    data = {**document, "id": workflow_id}

    def work(session: Session) -> Saved:
        workflow = service.get(session, workflow_id)
        if workflow.current_version != base_version:
            raise Conflict(
                f"version {workflow.current_version} was saved while you were editing version "
                f"{base_version}"
            )
        saved = service.save(session, data, now=now)
        if saved.changed:
            detail = {"version": saved.version, "via": via}
            audit(session, user, "journey edited", f"workflow {workflow_id}", now, detail)
        return saved

    return in_transaction(services.uow, work)
