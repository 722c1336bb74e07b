"""Changes made on the Journeys pages: install from the library, import a file, enable, pause,
end all runs. Each goes through the same service as the REST API, in one transaction with its
audit entry (who, which workflow, which version)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lealta.automations import ending, service
from lealta.bootstrap import Services
from lealta.console.auth import SignedIn
from lealta.console.edits import audit
from lealta.errors import Conflict
from lealta.storage.retry import in_transaction

MAX_FILE_BYTES = 256 * 1024


def _target(workflow_id: str) -> str:
    return f"workflow {workflow_id}"


def install(services: Services, user: SignedIn, template_id: str) -> service.Installed:
    """Install shipped workflow ``template_id`` as a draft with its message templates (as
    ``POST /v1/automations/templates/{id}``)."""
    now = services.clock.now()

    def work(session: Session) -> service.Installed:
        done = service.install(session, template_id, now=now)
        saved = done.saved
        detail = {"version": saved.version, "changed": saved.changed, "templates": done.templates}
        audit(session, user, "workflow installed", _target(saved.workflow_id), now, detail)
        return done

    return in_transaction(services.uow, work)


def import_file(services: Services, user: SignedIn, text: str) -> service.Saved:
    """Store an uploaded YAML or JSON definition (as ``POST /v1/automations``): a new draft,
    or a new version of the workflow with its id."""
    now = services.clock.now()

    def work(session: Session) -> service.Saved:
        saved = service.save(session, text, now=now)
        detail = {"version": saved.version, "changed": saved.changed, "created": saved.created}
        audit(session, user, "workflow imported", _target(saved.workflow_id), now, detail)
        return saved

    return in_transaction(services.uow, work)


ACTIONS = {"enable": ("active", "workflow enabled"), "pause": ("paused", "workflow paused")}


def set_status(services: Services, user: SignedIn, workflow_id: str, action: str) -> str:
    """Enable or pause (as ``POST /v1/automations/{id}/enable|pause``); returns the status."""
    status, words = ACTIONS[action]
    now = services.clock.now()

    def work(session: Session) -> str:
        workflow = service.set_status(session, workflow_id, status, now=now)
        audit(session, user, words, _target(workflow_id), now, {"status": status})
        return workflow.status

    return in_transaction(services.uow, work)


def end_all(services: Services, user: SignedIn, workflow_id: str, expected: int) -> int:
    """End every run under way, once the marketer has confirmed the number they were shown.

    Raises
    ------
    Conflict
        When the number of runs under way is not ``expected`` any more (people entered or
        left meanwhile): the page shows the new number to confirm again.
    """
    now = services.clock.now()

    def work(session: Session) -> int:
        service.get(session, workflow_id)
        count = ending.under_way(session, workflow_id)
        if count != expected:
            raise Conflict(
                f"{count:,} people are in this workflow now, not {expected:,}: "
                "check the number and confirm again"
            )
        ended = ending.end_runs(session, workflow_id, reason=f"ended by {user.email}", now=now)
        audit(session, user, "workflow runs ended", _target(workflow_id), now, {"runs": ended})
        return ended

    return in_transaction(services.uow, work)
