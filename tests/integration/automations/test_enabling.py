"""A workflow is enabled only with its message templates stored, and a shipped workflow installs
with the shipped templates it sends (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from lealta.automations import catalog, service
from lealta.errors import Conflict
from lealta.messages import service as messages
from lealta.storage.unit_of_work import UnitOfWork

NOW = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
FLOW = """
id: mixed
name: Mixed channels
trigger: {type: manual}
steps:
  - {id: mail, type: send, channel: email, template: hello}
  - {id: text, type: send, channel: sms, template: nudge}
  - {id: hook, type: send, channel: webhook, template: https://crm.example/hook}
"""


def test_enabling_names_every_template_not_stored_for_its_channel(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        service.save(session, FLOW, now=NOW)
        messages.save(session, "nudge", "email", {"subject": "Hi", "text": "Wrong channel"})
    with pytest.raises(Conflict) as refused, uow.transaction() as session:
        service.set_status(session, "mixed", "active", now=NOW)
    message = str(refused.value)
    assert "'mixed' cannot be enabled" in message
    assert "hello (email), nudge (sms; stored for email)" in message
    assert "crm.example" not in message  # a webhook send renders no template
    with uow.transaction() as session:
        assert service.get(session, "mixed").status == "draft"
        service.set_status(session, "mixed", "paused", now=NOW)  # pausing needs nothing
        messages.save(session, "hello", "email", {"subject": "Hi", "text": "Hello"})
        messages.save(session, "nudge", "sms", {"text": "Hi"})
    with uow.transaction() as session:
        assert service.set_status(session, "mixed", "active", now=NOW).status == "active"


def test_installing_a_shipped_workflow_stores_only_the_templates_missing(
    uow: UnitOfWork,
) -> None:
    edited = {"subject": "Our own words", "text": "Edited by the shop"}
    with uow.transaction() as session:
        messages.save(session, "win-back-2", "email", edited)
    with uow.transaction() as session:
        done = service.install(session, "win-back", now=NOW)
    assert done.saved.created
    assert done.templates == ["win-back-1", "win-back-3"]
    with uow.transaction() as session:
        assert messages.get(session, "win-back-2").body == edited  # never replaced
        assert "it" in messages.get(session, "win-back-1").body["variants"]
        assert service.missing_templates(session, service.definition(session, "win-back")) == []
        assert service.set_status(session, "win-back", "active", now=NOW).status == "active"
    with uow.transaction() as session:
        again = service.install(session, "win-back", now=NOW)
    assert (again.saved.changed, again.templates) == (False, [])


@pytest.mark.parametrize("workflow", [info.id for info in catalog.templates()])
def test_every_shipped_workflow_can_be_enabled_once_installed(
    uow: UnitOfWork, workflow: str
) -> None:
    with uow.transaction() as session:
        done = service.install(session, workflow, now=NOW)
        assert done.templates == sorted(
            service.templates_used(service.definition(session, workflow))
        )
    with uow.transaction() as session:
        assert service.set_status(session, workflow, "active", now=NOW).status == "active"
